fn main() {
    println!("meshform v{}", env!("CARGO_PKG_VERSION"));
}
