//! The little file system a template sees while it is compiled: the template itself,
//! `data.json`, the logo, and — for a business's own templates — the other files of its
//! template directory (images, `#import`ed helpers).

use std::path::Path;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use crate::Fonts;

/// The virtual path of a file at the root of the template's world.
pub(crate) fn file_id(path: &str) -> FileId {
    // The paths are literals of this crate ("/data.json"), always valid.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| panic!("invalid virtual path {path}"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

pub(crate) struct RenderWorld<'a> {
    pub library: &'a LazyHash<Library>,
    pub fonts: &'a Fonts,
    pub main: Source,
    pub data_id: FileId,
    pub data: Bytes,
    pub logo_id: FileId,
    pub logo: Option<Bytes>,
    /// The business's template directory, when the main template came from it.
    pub dir: Option<&'a Path>,
}

impl RenderWorld<'_> {
    fn read(&self, id: FileId) -> FileResult<Vec<u8>> {
        let Some(dir) = self.dir else {
            return Err(FileError::NotFound(id.vpath().get_without_slash().into()));
        };
        if !matches!(id.root(), VirtualRoot::Project) {
            return Err(FileError::Other(Some("packages are not available when printing".into())));
        }
        // `realize` refuses paths that would leave the directory.
        let path = id.vpath().realize(dir).map_err(FileError::Realize)?;
        std::fs::read(&path).map_err(|err| FileError::from_io(err, &path))
    }
}

impl World for RenderWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        let bytes = self.read(id)?;
        let text = String::from_utf8(bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            return Ok(self.data.clone());
        }
        if id == self.logo_id {
            if let Some(logo) = &self.logo {
                return Ok(logo.clone());
            }
        }
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        self.read(id).map(Bytes::new)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }

    /// Documents carry their dates as data: a template never reads the clock, so the same
    /// data always prints the same PDF.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
