//! Small genuine files of every type a chat accepts by default, built here rather than kept as
//! binary fixtures: each with the structure its format defines (a PNG with its chunks, a WAV with
//! its RIFF chunks, an MP4's `ftyp` box, a DOCX's ZIP parts), for the content check's tests.

use std::io::Write;

/// A file, and the type it genuinely is.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// One genuine file of each of the contract's default `ALLOWED_CONTENT_TYPES`.
pub fn all() -> Vec<Sample> {
    vec![
        sample(
            "notes.txt",
            "text/plain",
            "Plain notes, naïve café ✓\n".into(),
        ),
        sample("table.csv", "text/csv", "name,amount\nTomás,12\n".into()),
        sample("report.pdf", "application/pdf", pdf()),
        sample("photo.jpg", "image/jpeg", jpeg()),
        sample("photo.png", "image/png", png()),
        sample(
            "photo.heic",
            "image/heic",
            iso_bmff(b"heic", &[b"mif1", b"heic"]),
        ),
        sample("voice.wav", "audio/wav", wav()),
        sample(
            "clip.mp4",
            "video/mp4",
            iso_bmff(b"isom", &[b"isom", b"iso2", b"mp41"]),
        ),
        sample("clip.mov", "video/quicktime", iso_bmff(b"qt  ", &[b"qt  "])),
        sample(
            "letter.rtf",
            "application/rtf",
            b"{\\rtf1\\ansi Hello}".to_vec(),
        ),
        sample("letter.doc", "application/msword", ole2()),
        sample("sheet.xls", "application/vnd.ms-excel", ole2()),
        sample("slides.ppt", "application/vnd.ms-powerpoint", ole2()),
        sample("letter.docx", DOCX, docx()),
        sample("sheet.xlsx", XLSX, xlsx()),
        sample("slides.pptx", PPTX, pptx()),
    ]
}

/// The genuine sample of `content_type`.
pub fn of(content_type: &str) -> Sample {
    all()
        .into_iter()
        .find(|s| s.content_type == content_type)
        .unwrap_or_else(|| panic!("no sample of {content_type}"))
}

fn sample(name: &'static str, content_type: &'static str, bytes: Vec<u8>) -> Sample {
    Sample {
        name,
        content_type,
        bytes,
    }
}

/// A 1×1 transparent PNG: signature, IHDR, IDAT, IEND.
pub fn png() -> Vec<u8> {
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        b"\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
        b"\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4",
        b"\0\0\0\0IEND\xaeB`\x82",
    ]
    .concat()
}

/// A JFIF JPEG's start and end markers around its APP0 segment.
pub fn jpeg() -> Vec<u8> {
    let mut bytes = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    bytes.extend_from_slice(b"\xff\xd9");
    bytes
}

/// A one-page PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n\
      2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n\
      trailer <</Root 1 0 R>>\n%%EOF\n"
        .to_vec()
}

/// A WAV of 100 ms of silence: RIFF, `fmt ` (PCM, mono, 8 kHz, 16 bits), `data`.
pub fn wav() -> Vec<u8> {
    let samples = vec![0u8; 1600];
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&[1, 0, 1, 0]); // PCM, one channel
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes());
    bytes.extend_from_slice(&[2, 0, 16, 0]);
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&samples);
    bytes
}

/// An ISO base media file: its `ftyp` box (major brand, compatible brands), then an empty `mdat`.
pub fn iso_bmff(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let size = 16 + 4 * compatible.len() as u32;
    let mut bytes = size.to_be_bytes().to_vec();
    bytes.extend_from_slice(b"ftyp");
    bytes.extend_from_slice(major);
    bytes.extend_from_slice(&0x200u32.to_be_bytes());
    for brand in compatible {
        bytes.extend_from_slice(*brand);
    }
    bytes.extend_from_slice(&8u32.to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    bytes
}

/// The header sector of an OLE2 compound file (`.doc`, `.xls`, `.ppt`).
pub fn ole2() -> Vec<u8> {
    let mut bytes = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    bytes.resize(512, 0);
    bytes
}

/// An Office Open XML package, its parts in the order Office writes them:
/// `[Content_Types].xml`, `_rels/.rels`, then the main part's relationships and the main part,
/// both in the folder that names the kind (`word/`, `xl/`, `ppt/`).
fn ooxml(folder: &str, main_part: &str, body: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let relationships = format!("{folder}/_rels/{main_part}.rels");
    let main = format!("{folder}/{main_part}");
    let parts = [
        ("[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>"),
        ("_rels/.rels", "<?xml version=\"1.0\"?><Relationships/>"),
        (
            relationships.as_str(),
            "<?xml version=\"1.0\"?><Relationships/>",
        ),
        (main.as_str(), body),
    ];
    for (name, text) in parts {
        zip.start_file(name, stored).expect("a ZIP entry");
        zip.write_all(text.as_bytes()).expect("a ZIP entry's bytes");
    }
    zip.finish().expect("a ZIP").into_inner()
}

pub fn docx() -> Vec<u8> {
    ooxml("word", "document.xml", "<w:document/>")
}

pub fn xlsx() -> Vec<u8> {
    ooxml("xl", "workbook.xml", "<workbook/>")
}

pub fn pptx() -> Vec<u8> {
    ooxml("ppt", "presentation.xml", "<p:presentation/>")
}
