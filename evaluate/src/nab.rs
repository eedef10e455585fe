//! NAB scoring (to be written).
