#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import POSIXSupport

/// `strerror` text for an errno value.
public enum ErrnoText {
    public static func describe(_ code: Int32) -> String {
        POSIX.describe(code)
    }
}
