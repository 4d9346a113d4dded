//! Placeholder: being written (Unicode \p{L}, \p{N}, \s tables for the GPT-2 scanner).
