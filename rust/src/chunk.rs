//! Placeholder: cutting byte streams into chunks at safe boundaries (being written).
