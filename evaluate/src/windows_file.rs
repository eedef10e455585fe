//! NAB labelled windows (to be written).
