//! Japanese calendar rules: 祝日, 年末年始, 年度, class age and life stage, 和暦.
