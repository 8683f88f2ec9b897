//! GitOps logic with no UI: shared by the TUI and the command line.
//! (Sync, diff, roll back, snapshot and restore arrive with their issues.)
