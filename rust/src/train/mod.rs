//! Placeholder: BPE training (being written).
