//! Serde for fixed-size ids: hex text in human-readable formats (the JSON API), raw bytes
//! in binary ones (the CBOR wire format).

macro_rules! hex_or_bytes_serde {
    ($ty:ident, $len:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&hex::encode(self.0))
                } else {
                    s.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "{} bytes, or {} hex digits", $len, 2 * $len)
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<$ty, E> {
                        <[u8; $len]>::try_from(v)
                            .map($ty)
                            .map_err(|_| E::invalid_length(v.len(), &self))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        let mut out = [0u8; $len];
                        hex::decode_to_slice(v, &mut out)
                            .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))?;
                        Ok($ty(out))
                    }
                }
                if d.is_human_readable() {
                    d.deserialize_str(V)
                } else {
                    d.deserialize_bytes(V)
                }
            }
        }
    };
}

pub(crate) use hex_or_bytes_serde;
