import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the package and its built binary are.
public enum RepositoryPaths {
    /// The package root, found from this file's path.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `stepworker` binary: next to the test bundle, else in .build/debug.
    public static let binary: String = {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory.path, bundleDirectory.deletingLastPathComponent().path, root + "/.build/debug"] {
            let path = candidate + "/stepworker"
            if access(path, X_OK) == 0 { return path }
        }
        return root + "/.build/debug/stepworker"
    }()
}
