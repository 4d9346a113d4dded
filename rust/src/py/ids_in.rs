//! Token ids from Python, read where they are.
//!
//! Decoding 10^7 ids from a numpy array used to go through two Python lists (`list(ids)`, then
//! `[int(i) for i in ...]`) and a `Vec<i64>`: 766 MB and 3.6 s, against tiktoken's 109 MB and
//! 0.9 s. Now:
//! - a 1-D numpy integer array is range-checked by numpy (vectorized `min`/`max`) and read in
//!   place through `__array_interface__` (the abi3 build cannot use the buffer protocol before
//!   Python 3.11), with the GIL held so no Python code writes to it meanwhile;
//! - a list or tuple is read item by item, without a copy of the list;
//! - any other iterable of ints is read one by one.
//!
//! Items must be ints or have `__index__` (numpy integers), never bool; a negative or too-large id
//! is an unknown id (`KeyError`), the first one in order is named, as before.

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyList, PyString, PyTuple};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Ids as `u32`: collected from Python ints, or read in place from a numpy array's memory.
pub enum Ids<'py> {
    Owned(Vec<u32>),
    /// A C-contiguous array of little-endian integers of `itemsize` bytes, all in `u32` range
    /// (checked). `_owner` keeps the memory alive; the GIL, held while `Ids` lives (`'py`), keeps
    /// Python code from writing to it meanwhile.
    Array {
        data: *const u8,
        len: usize,
        itemsize: usize,
        _owner: Bound<'py, PyAny>,
    },
}

impl Ids<'_> {
    pub fn len(&self) -> usize {
        match self {
            Ids::Owned(v) => v.len(),
            Ids::Array { len, .. } => *len,
        }
    }

    /// Id number `i` (`i < len()`).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Ids::Owned(v) => v[i],
            Ids::Array { data, itemsize, .. } => {
                let mut w = [0u8; 8];
                // SAFETY: `i < len`, so the `itemsize` bytes at `i * itemsize` are inside the
                // array (`numpy_ids` checked shape, contiguity and item size).
                let src = unsafe { std::slice::from_raw_parts(data.add(i * itemsize), *itemsize) };
                w[..*itemsize].copy_from_slice(src);
                u64::from_le_bytes(w) as u32
            }
        }
    }
}

/// One id from one Python object.
fn item_id(item: &Bound<'_, PyAny>) -> PyResult<u32> {
    let int = if item.is_exact_instance_of::<PyInt>() {
        item.clone()
    } else if item.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "token ids must be int, got bool: {item}"
        )));
    } else {
        let index = item.py().import("operator")?.getattr("index")?;
        index.call1((item,)).map_err(|_| {
            PyTypeError::new_err(format!(
                "token ids must be int, got {}: {}",
                type_name(item),
                item.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?
    };
    int.extract::<u32>()
        .map_err(|_| PyKeyError::new_err(format!("unknown token id {int}")))
}

/// A 1-D numpy integer array, read in place; `None` when `obj` is not one or holds an id outside
/// `u32` (the item path then names the first bad one). Arrays that are not C-contiguous
/// little-endian are first converted (`astype("<u4")`, 4 bytes per id).
fn numpy_ids<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Ids<'py>>> {
    let (Ok(dtype), Ok(ndim)) = (obj.getattr("dtype"), obj.getattr("ndim")) else {
        return Ok(None);
    };
    let kind: String = match dtype.getattr("kind").and_then(|k| k.extract()) {
        Ok(k) => k,
        Err(_) => return Ok(None),
    };
    if ndim.extract::<usize>().ok() != Some(1) || !(kind == "i" || kind == "u") {
        return Ok(None);
    }
    let len = obj.len()?;
    if len > 0 {
        let lo: i128 = obj.call_method0("min")?.extract()?;
        let hi: i128 = obj.call_method0("max")?.extract()?;
        if lo < 0 || hi > u32::MAX as i128 {
            return Ok(None);
        }
    }
    let mut arr = obj.clone();
    for _ in 0..2 {
        let iface = arr.getattr("__array_interface__")?;
        let typestr: String = iface.get_item("typestr")?.extract()?;
        let contiguous = iface.get_item("strides")?.is_none();
        let itemsize = typestr[2..].parse::<usize>().unwrap_or(0);
        let little = typestr.starts_with('<') || typestr.starts_with('|');
        if contiguous
            && little
            && cfg!(target_endian = "little")
            && [1, 2, 4, 8].contains(&itemsize)
        {
            let (addr, _readonly): (usize, bool) = iface.get_item("data")?.extract()?;
            return Ok(Some(Ids::Array {
                data: addr as *const u8,
                len,
                itemsize,
                _owner: arr,
            }));
        }
        arr = obj.call_method1("astype", ("<u4",))?;
    }
    Ok(None)
}

/// The ids in `obj`: a numpy integer array, a list or tuple of ints, or any iterable of ints.
pub fn read_ids<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Ids<'py>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "expected a sequence of int token ids, got {}",
            type_name(obj)
        )));
    }
    if let Ok(list) = obj.downcast::<PyList>() {
        let mut ids = Vec::with_capacity(list.len());
        for item in list.iter() {
            ids.push(item_id(&item)?);
        }
        return Ok(Ids::Owned(ids));
    }
    if let Ok(tuple) = obj.downcast::<PyTuple>() {
        let ids = tuple.iter().map(|i| item_id(&i)).collect::<PyResult<_>>()?;
        return Ok(Ids::Owned(ids));
    }
    if let Some(ids) = numpy_ids(obj)? {
        return Ok(ids);
    }
    let iter = obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a sequence of int token ids, got {}",
            type_name(obj)
        ))
    })?;
    let mut ids = Vec::with_capacity(obj.len().unwrap_or(0));
    for item in iter {
        ids.push(item_id(&item?)?);
    }
    Ok(Ids::Owned(ids))
}
