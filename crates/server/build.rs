// `sqlx::migrate!` embeds the migration files at compile time; a file added to the
// folders must rebuild the crate, which Cargo only knows when told.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
