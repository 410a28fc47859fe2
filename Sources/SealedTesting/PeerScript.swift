import Foundation

/// Runs one batch of a peer script of `scripts/peers` (`NAME.py JOB.json RESULTS.json`): writes the job, runs the
/// script with the peers' Python, and reads the `results` array it writes.
enum PeerScript {
    /// - Parameters:
    ///   - script: The script's file name, such as `esdk_peer.py`.
    ///   - python: The peers' Python.
    ///   - job: The job object, written as `job.json` in `folder`.
    ///   - folder: A scratch folder of the caller's.
    ///   - failure: The error to throw, from a description, when the script fails or writes no results.
    /// - Returns: The script's results, in the order it wrote them.
    static func run(
        _ script: String,
        python: URL,
        job: [String: Any],
        in folder: URL,
        failure: (String) -> any Error
    ) async throws -> [[String: Any]] {
        let jobFile = folder.appendingPathComponent("job.json")
        let resultFile = folder.appendingPathComponent("results.json")
        try JSONSerialization.data(withJSONObject: job).write(to: jobFile)
        let run = try await ChildProcess.run(
            python,
            arguments: [TestEnvironment.peerScripts.appendingPathComponent(script).path, jobFile.path, resultFile.path]
        )
        guard run.status == 0 else {
            throw failure("\(script) exited \(run.status): \(run.errors)")
        }
        guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: resultFile)) as? [String: Any],
            let results = json["results"] as? [[String: Any]]
        else { throw failure("\(script) wrote no results") }
        return results
    }
}
