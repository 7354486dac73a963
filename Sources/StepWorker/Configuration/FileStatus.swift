#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public enum FileStatus: Sendable, Equatable {
    case missing
    case directory
    case notExecutable
    case executable
}
