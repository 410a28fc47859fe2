import SealedCLI

/// The `sealed` executable: everything lives in `SealedCLI`, so tests can drive the same commands.
@main
enum Sealed {
    static func main() async {
        await SealedCommand.runAndExit()
    }
}
