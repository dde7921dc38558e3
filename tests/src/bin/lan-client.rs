//! A LAN host for the tests of the local page: run in a network namespace (`ip netns exec`)
//! or as another account, it does what a phone or a hostile host on the LAN would, and
//! prints what it saw as JSON lines.
//!
//! - `lan-client hold ADDR COUNT SECONDS [--partial]`: opens COUNT connections to ADDR
//!   (sending nothing, or with `--partial` the start of a request head that never ends),
//!   prints `{"event":"holding","opened":N,"failed":F}`, waits SECONDS, then prints
//!   `{"event":"done","open":K,"closed":C}`: how many the server still keeps open and how
//!   many it closed.
//! - `lan-client request ADDR METHOD PATH [-H 'Name: value']... [--body TEXT]`: one
//!   HTTP/1.1 request (`Host: ADDR` unless a `-H Host:` is given); prints
//!   `{"status":S,"headers":{..},"body":".."}` (header names lowercase).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Map, Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("hold") => hold(&args[1..]),
        Some("request") => request(&args[1..]),
        _ => Err("usage: lan-client hold ADDR COUNT SECONDS [--partial] | request ADDR METHOD PATH [-H 'K: V']... [--body TEXT]".into()),
    };
    if let Err(e) = result {
        eprintln!("lan-client: {e}");
        std::process::exit(2);
    }
}

fn addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|e| format!("{text}: {e}"))
}

fn print(value: Value) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

fn hold(args: &[String]) -> Result<(), String> {
    let [to, count, seconds, rest @ ..] = args else {
        return Err("hold ADDR COUNT SECONDS [--partial]".into());
    };
    let to = addr(to)?;
    let count: usize = count.parse().map_err(|e| format!("COUNT: {e}"))?;
    let seconds: u64 = seconds.parse().map_err(|e| format!("SECONDS: {e}"))?;
    let partial = rest.iter().any(|a| a == "--partial");
    let mut held = Vec::new();
    let mut failed = 0;
    for _ in 0..count {
        match TcpStream::connect_timeout(&to, Duration::from_secs(3)) {
            Ok(mut s) => {
                if partial {
                    let _ = write!(s, "GET / HTTP/1.1\r\nHost: {to}\r\nX-Slow: ");
                }
                held.push(s);
            }
            Err(_) => failed += 1,
        }
    }
    print(json!({ "event": "holding", "opened": held.len(), "failed": failed }));
    std::thread::sleep(Duration::from_secs(seconds));
    let (mut open, mut closed) = (0, 0);
    for s in &mut held {
        let _ = s.set_nonblocking(true);
        let mut buf = [0u8; 4096];
        // Whatever the server sent (a timeout answer, say), then end of stream or nothing.
        let state = loop {
            match s.read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        };
        if state {
            open += 1;
        } else {
            closed += 1;
        }
    }
    print(json!({ "event": "done", "open": open, "closed": closed }));
    Ok(())
}

fn request(args: &[String]) -> Result<(), String> {
    let [to, method, path, rest @ ..] = args else {
        return Err("request ADDR METHOD PATH [-H 'K: V']... [--body TEXT]".into());
    };
    let target = addr(to)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body = String::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-H" => {
                let h = it.next().ok_or("-H needs a header")?;
                let (k, v) = h.split_once(':').ok_or("-H 'Name: value'")?;
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            "--body" => body = it.next().ok_or("--body needs text")?.clone(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        headers.insert(0, ("Host".into(), to.clone()));
    }
    let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(5))
        .map_err(|e| format!("connect {to}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body.as_bytes()))
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read the answer: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status: u64 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let mut map = Map::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_owned();
            match map.get_mut(&k) {
                Some(Value::String(old)) => {
                    old.push('\n');
                    old.push_str(&v);
                }
                _ => {
                    map.insert(k, Value::String(v));
                }
            }
        }
    }
    print(json!({ "status": status, "headers": map, "body": body }));
    Ok(())
}
