import Crypto
import Synchronization

/// The last SigV4 signing key a signer derived (four HMACs of the secret, the day, the region
/// and the service), kept for the next request of the same secret and day as an HMAC already
/// keyed with it: a worker signs every call with the same credentials, so only the string to
/// sign's HMAC is left per request, without setting up the key again.
final class SigningKeyCache: Sendable {
    private struct Entry {
        var secret: String
        var day: Substring
        var mac: HMAC<SHA256>
    }

    private let last = Mutex<Entry?>(nil)

    /// An HMAC keyed for `secret` on `day` (`yyyyMMdd`), its key derived by `derive` when it is
    /// not the last one. Each caller updates and finalizes its own copy.
    func mac(secret: String, day: Substring, derive: () -> SymmetricKey) -> HMAC<SHA256> {
        if let mac = last.withLock({ entry in entry.flatMap { $0.day == day && $0.secret == secret ? $0.mac : nil } }) {
            return mac
        }
        let mac = HMAC<SHA256>(key: derive())
        last.withLock { $0 = Entry(secret: secret, day: day, mac: mac) }
        return mac
    }
}
