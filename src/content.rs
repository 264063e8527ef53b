//! Trust the bytes, not the label: whether a file's first bytes are what its declared type
//! says. S3 stores whatever a client PUT under the type it named; a PNG that holds HTML, an SVG
//! with script or an executable must never be approved (OWASP's File Upload Cheat Sheet: check
//! the signature, never trust `Content-Type`). No I/O: the completion reads the first
//! [`PEEK_BYTES`] bytes in its one S3 call and asks [`check`].
//!
//! The signatures are the `infer` crate's where its detections match the allowed types (PNG,
//! JPEG, HEIC, PDF, WAV, MP4, QuickTime, RTF, ZIP and the OOXML part names); what no crate covers
//! for a few KiB of a file is written here: the OLE2 header of the legacy Office types (infer
//! parses their whole compound file), and valid UTF-8 without NUL for text.

/// How many bytes of the file the check reads: enough for every signature below, and for the
/// OOXML part names of most documents.
pub const PEEK_BYTES: u64 = 8 * 1024;

/// The answer for a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The bytes are what the type says.
    Matches,
    /// The type has no known signature: accepted on its declaration.
    Unchecked,
    /// The bytes are something else: the file is disguised.
    Mismatch(&'static str),
}

/// The OLE2 compound file header of `.doc`, `.xls` and `.ppt`.
const OLE2: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The types with a known signature, for start-up to name the allowed ones without one.
pub fn is_known(content_type: &str) -> bool {
    rule(&content_type.to_ascii_lowercase()).is_some()
}

/// Whether `first` (the first bytes of a file of `size` bytes, all of them if it is shorter than
/// [`PEEK_BYTES`]) is a file of `content_type` (compared case-insensitively).
pub fn check(content_type: &str, first: &[u8], size: u64) -> Verdict {
    let content_type = content_type.to_ascii_lowercase();
    let Some(rule) = rule(&content_type) else {
        return Verdict::Unchecked;
    };
    let whole = size <= first.len() as u64;
    if rule(first, whole) {
        Verdict::Matches
    } else {
        Verdict::Mismatch(reason(&content_type))
    }
}

/// What the log line says of a mismatch (`content_type` in lowercase): the kind of signature
/// that was missing.
fn reason(content_type: &str) -> &'static str {
    match content_type {
        "text/plain" | "text/csv" => "not UTF-8 text without NUL bytes",
        t if t.contains("openxmlformats") => "not an Office Open XML package of this kind",
        "application/msword" | "application/vnd.ms-excel" | "application/vnd.ms-powerpoint" => {
            "not an OLE2 compound file"
        }
        _ => "not the signature of the declared type",
    }
}

type Rule = fn(&[u8], bool) -> bool;

fn rule(content_type: &str) -> Option<Rule> {
    let rule: Rule = match content_type {
        "text/plain" | "text/csv" => text,
        "application/pdf" => |b, _| infer::archive::is_pdf(b),
        "image/jpeg" => |b, _| infer::image::is_jpeg(b),
        "image/png" => |b, _| infer::image::is_png(b),
        "image/heic" => |b, _| infer::image::is_heif(b),
        "audio/wav" => |b, _| infer::audio::is_wav(b),
        "video/mp4" => |b, _| infer::video::is_mp4(b),
        "video/quicktime" => |b, _| infer::video::is_mov(b),
        "application/rtf" => |b, _| infer::archive::is_rtf(b),
        "application/msword" | "application/vnd.ms-excel" | "application/vnd.ms-powerpoint" => {
            |b, _| b.starts_with(&OLE2)
        }
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            |b, _| ooxml(b, infer::doc::is_docx)
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            |b, _| ooxml(b, infer::doc::is_xlsx)
        }
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
            |b, _| ooxml(b, infer::doc::is_pptx)
        }
        _ => return None,
    };
    Some(rule)
}

/// A ZIP; where its first bytes show the OOXML part names (`word/`, `xl/`, `ppt/`), the ones of
/// this kind. Past the first bytes nothing is known, so a ZIP whose part names lie further is
/// accepted.
fn ooxml(bytes: &[u8], this_kind: fn(&[u8]) -> bool) -> bool {
    let other_kind = [
        infer::doc::is_docx,
        infer::doc::is_xlsx,
        infer::doc::is_pptx,
    ]
    .iter()
    .any(|kind| kind(bytes));
    infer::archive::is_zip(bytes) && (this_kind(bytes) || !other_kind)
}

/// Valid UTF-8 with no NUL byte. When `bytes` are only the start of the file, a multi-byte
/// character cut by the end of the range is fine.
fn text(bytes: &[u8], whole: bool) -> bool {
    if bytes.contains(&0) {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // `error_len() == None`: the bytes end inside a character that may go on.
        Err(error) => !whole && error.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn a_file_is_what_its_signature_says_whatever_its_label() {
        assert_eq!(check("image/png", PNG, 16), Verdict::Matches);
        assert_eq!(check("IMAGE/PNG", PNG, 16), Verdict::Matches);
        assert!(matches!(
            check("image/png", b"<html><script>", 14),
            Verdict::Mismatch(_)
        ));
        assert!(matches!(
            check("application/pdf", PNG, 16),
            Verdict::Mismatch(_)
        ));
        assert_eq!(
            check(
                "application/msword",
                &[OLE2.as_slice(), &[0; 8]].concat(),
                16
            ),
            Verdict::Matches
        );
    }

    #[test]
    fn text_is_utf8_without_nul_and_may_be_cut_mid_character_only_at_the_range_end() {
        let text = "naïve café".as_bytes();
        assert_eq!(
            check("text/plain", text, text.len() as u64),
            Verdict::Matches
        );
        let cut = &text[..text.len() - 1]; // the last "é" cut in two
        assert_eq!(check("text/csv", cut, 100_000), Verdict::Matches);
        assert!(matches!(
            check("text/csv", cut, cut.len() as u64),
            Verdict::Mismatch(_)
        ));
        assert!(matches!(
            check("text/plain", b"a\0b", 3),
            Verdict::Mismatch(_)
        ));
        assert!(matches!(
            check("text/plain", b"\xff\xfe", 2),
            Verdict::Mismatch(_)
        ));
    }

    #[test]
    fn a_type_without_a_known_signature_is_accepted_on_its_declaration() {
        assert_eq!(check("image/webp", b"anything", 8), Verdict::Unchecked);
        assert!(!is_known("image/webp"));
        assert!(crate::config::DEFAULT_ALLOWED_CONTENT_TYPES
            .iter()
            .all(|t| is_known(t)));
    }
}
