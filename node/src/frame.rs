//! Length-prefixed frames on a byte stream (the sync session's stream).
//!
//! A frame is a `u32` big-endian payload length followed by that many payload bytes
//! (`docs/protocol.md`, section 1). The reader checks the announced length against a limit
//! before it reserves anything, and grows its buffer only as bytes actually arrive, so a
//! peer that announces a large frame and then stalls holds little of our memory.
//!
//! Works on any `futures::io` stream; a libp2p [`Stream`](libp2p::Stream) is one.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame payload sent or accepted, in bytes (1 MiB): the session protocol's limit,
/// declared once in [`entraide_crdt::limits`].
pub const MAX_FRAME_BYTES: usize = entraide_crdt::limits::MAX_FRAME_BYTES;

/// Size of the length prefix, in bytes.
pub const LENGTH_PREFIX_BYTES: usize = 4;

/// Most payload bytes reserved before any of them arrived. Larger frames grow their buffer
/// as data comes in, so an announced length alone cannot make us allocate a megabyte.
const INITIAL_RESERVE_BYTES: usize = 64 * 1024;

/// Why a frame could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame's length is over the limit. On reading, the payload was neither read nor
    /// allocated, and the stream is no longer usable (it is positioned inside that frame).
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// Length of the payload, announced (reading) or given (writing).
        len: usize,
        /// The limit it broke.
        max: usize,
    },
    /// The stream ended inside a frame: in its length prefix or in its payload.
    #[error("stream ended inside a frame: got {received} of {expected} bytes")]
    Truncated {
        /// Bytes expected: the announced payload length, or the prefix's 4 bytes when the
        /// stream ended inside the prefix.
        expected: usize,
        /// Bytes received before the end of the stream.
        received: usize,
    },
    /// The underlying stream failed (reset, closed connection, ...).
    #[error("frame stream i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A frame was started but its payload did not arrive in time (a peer dripping bytes).
    #[error("a frame of {len} bytes did not arrive within {seconds} s")]
    TooSlow {
        /// The announced length.
        len: usize,
        /// The time allowed.
        seconds: u64,
    },
}

/// Writes `payload` as one frame and flushes it.
///
/// Refuses (without writing anything) a payload over [`MAX_FRAME_BYTES`], since every
/// receiver would refuse it anyway.
pub async fn write_frame<W>(io: &mut W, payload: &[u8]) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    if payload.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let len = u32::try_from(payload.len()).map_err(|_| FrameError::TooLarge {
        len: payload.len(),
        max: MAX_FRAME_BYTES,
    })?;
    // One write for prefix and payload: with TCP_NODELAY and yamux, two writes would send
    // the 4-byte prefix in a packet of its own.
    let mut buf = Vec::with_capacity(LENGTH_PREFIX_BYTES + payload.len());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(payload);
    io.write_all(&buf).await?;
    // Noise and yamux buffer writes: the peer waits for this frame, so push it out now.
    io.flush().await?;
    Ok(())
}

/// Reads one frame whose payload is at most `max_len` bytes.
///
/// Returns `Ok(None)` when the stream ends cleanly before a frame starts, and an error when
/// it ends inside a frame ([`FrameError::Truncated`]) or the frame is longer than `max_len`
/// ([`FrameError::TooLarge`], detected from the prefix alone).
pub async fn read_frame<R>(io: &mut R, max_len: usize) -> Result<Option<Vec<u8>>, FrameError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    read_frame_within(io, max_len, None).await
}

/// [`read_frame`], with `body_timeout` for the payload of a frame once its length prefix has
/// arrived (`None`: no limit). Needs a tokio runtime when a timeout is given.
pub async fn read_frame_within<R>(
    io: &mut R,
    max_len: usize,
    body_timeout: Option<std::time::Duration>,
) -> Result<Option<Vec<u8>>, FrameError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut prefix = [0u8; LENGTH_PREFIX_BYTES];
    let mut filled = 0;
    while filled < LENGTH_PREFIX_BYTES {
        match io.read(&mut prefix[filled..]).await {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => {
                return Err(FrameError::Truncated {
                    expected: LENGTH_PREFIX_BYTES,
                    received: filled,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    // A u32 always fits in usize on the 32- and 64-bit targets we build for; saturating
    // keeps a hypothetical 16-bit target on the "too large" side.
    let len = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if len > max_len {
        return Err(FrameError::TooLarge { len, max: max_len });
    }
    let mut payload = Vec::with_capacity(len.min(INITIAL_RESERVE_BYTES));
    // `take` stops at the frame's end, so the next frame's bytes stay in the stream.
    let limit = u64::try_from(len).unwrap_or(u64::MAX);
    let mut bounded = (&mut *io).take(limit);
    let body = bounded.read_to_end(&mut payload);
    let received = match body_timeout {
        // Waiting for a frame to start is normal (an idle session); once it has started,
        // its payload must come within `body_timeout`.
        Some(t) => tokio::time::timeout(t, body)
            .await
            .map_err(|_| FrameError::TooSlow {
                len,
                seconds: t.as_secs(),
            })??,
        None => body.await?,
    };
    if received < len {
        return Err(FrameError::Truncated {
            expected: len,
            received,
        });
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use std::{
        pin::Pin,
        task::{Context, Poll},
    };

    use futures::{executor::block_on, io::Cursor};

    use super::*;

    /// The bytes of `frames` written one after the other.
    fn encode(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        for frame in frames {
            block_on(write_frame(&mut out, frame)).unwrap();
        }
        out.into_inner()
    }

    /// A reader that hands out at most one byte per read, like a slow network.
    struct Trickle(Cursor<Vec<u8>>);

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = buf.len().min(1);
            Pin::new(&mut self.0).poll_read(cx, &mut buf[..n])
        }
    }

    #[test]
    fn round_trip_of_several_frames_then_clean_end() {
        let big = vec![0xa5; 100_000];
        let bytes = encode(&[b"hello", b"", &big]);
        assert_eq!(&bytes[..4], &5u32.to_be_bytes());
        assert_eq!(&bytes[4..9], b"hello");
        let mut input = Cursor::new(bytes);
        let read = |input: &mut Cursor<Vec<u8>>| block_on(read_frame(input, MAX_FRAME_BYTES));
        assert_eq!(read(&mut input).unwrap().unwrap(), b"hello");
        assert_eq!(read(&mut input).unwrap().unwrap(), b"");
        assert_eq!(read(&mut input).unwrap().unwrap(), big);
        assert!(read(&mut input).unwrap().is_none());
        // The end stays the end.
        assert!(read(&mut input).unwrap().is_none());
    }

    #[test]
    fn round_trip_one_byte_at_a_time() {
        let mut input = Trickle(Cursor::new(encode(&[b"abc", b"defgh"])));
        assert_eq!(
            block_on(read_frame(&mut input, 16)).unwrap().unwrap(),
            b"abc"
        );
        assert_eq!(
            block_on(read_frame(&mut input, 16)).unwrap().unwrap(),
            b"defgh"
        );
        assert!(block_on(read_frame(&mut input, 16)).unwrap().is_none());
    }

    #[test]
    fn empty_stream_is_a_clean_end() {
        let mut input = Cursor::new(Vec::new());
        assert!(
            block_on(read_frame(&mut input, MAX_FRAME_BYTES))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn empty_frame_is_four_zero_bytes() {
        assert_eq!(encode(&[b""]), vec![0, 0, 0, 0]);
        let mut input = Cursor::new(vec![0, 0, 0, 0]);
        assert_eq!(block_on(read_frame(&mut input, 0)).unwrap().unwrap(), b"");
    }

    #[test]
    fn frame_of_exactly_the_limit_is_accepted() {
        let payload = vec![7u8; 1000];
        let mut input = Cursor::new(encode(&[&payload]));
        assert_eq!(
            block_on(read_frame(&mut input, 1000)).unwrap().unwrap(),
            payload
        );
    }

    #[test]
    fn oversize_frame_is_refused_from_its_prefix() {
        let mut input = Cursor::new(encode(&[&[1u8; 1001]]));
        match block_on(read_frame(&mut input, 1000)) {
            Err(FrameError::TooLarge {
                len: 1001,
                max: 1000,
            }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // Only the prefix was consumed: the payload was not read.
        assert_eq!(input.position(), LENGTH_PREFIX_BYTES as u64);
    }

    #[test]
    fn huge_announced_length_allocates_nothing() {
        // 4 GiB announced, no payload: allocating it would abort the test process.
        let mut input = Cursor::new(u32::MAX.to_be_bytes().to_vec());
        match block_on(read_frame(&mut input, MAX_FRAME_BYTES)) {
            Err(FrameError::TooLarge { len, max }) => {
                assert_eq!(len, u32::MAX as usize);
                assert_eq!(max, MAX_FRAME_BYTES);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn oversize_frame_is_not_written() {
        let mut out = Cursor::new(Vec::new());
        let payload = vec![0u8; MAX_FRAME_BYTES + 1];
        match block_on(write_frame(&mut out, &payload)) {
            Err(FrameError::TooLarge { len, max }) => {
                assert_eq!(len, MAX_FRAME_BYTES + 1);
                assert_eq!(max, MAX_FRAME_BYTES);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(out.into_inner().is_empty());
        // The largest allowed frame goes through.
        let mut out = Cursor::new(Vec::new());
        block_on(write_frame(&mut out, &payload[..MAX_FRAME_BYTES])).unwrap();
        let mut input = Cursor::new(out.into_inner());
        let read = block_on(read_frame(&mut input, MAX_FRAME_BYTES))
            .unwrap()
            .unwrap();
        assert_eq!(read.len(), MAX_FRAME_BYTES);
    }

    #[test]
    fn truncated_payload_is_an_error() {
        let mut bytes = encode(&[b"0123456789"]);
        bytes.truncate(LENGTH_PREFIX_BYTES + 5);
        let mut input = Cursor::new(bytes);
        match block_on(read_frame(&mut input, MAX_FRAME_BYTES)) {
            Err(FrameError::Truncated {
                expected: 10,
                received: 5,
            }) => {}
            other => panic!("expected Truncated, got {other:?}"),
        }
    }

    #[test]
    fn truncated_prefix_is_an_error() {
        let mut input = Trickle(Cursor::new(vec![0, 0]));
        match block_on(read_frame(&mut input, MAX_FRAME_BYTES)) {
            Err(FrameError::Truncated {
                expected: LENGTH_PREFIX_BYTES,
                received: 2,
            }) => {}
            other => panic!("expected Truncated, got {other:?}"),
        }
    }

    #[test]
    fn prefix_without_payload_is_truncated() {
        let mut input = Cursor::new(3u32.to_be_bytes().to_vec());
        match block_on(read_frame(&mut input, MAX_FRAME_BYTES)) {
            Err(FrameError::Truncated {
                expected: 3,
                received: 0,
            }) => {}
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
}
