import Crypto
import Synchronization

/// The last SigV4 signing key a signer derived (four HMACs of the secret, the day, the region
/// and the service), kept for the next request of the same secret and day: a worker signs every
/// call with the same credentials, so only the string to sign's HMAC is left per request.
final class SigningKeyCache: Sendable {
    private struct Entry {
        var secret: String
        var day: Substring
        var key: SymmetricKey
    }

    private let last = Mutex<Entry?>(nil)

    /// The key for `secret` on `day` (`yyyyMMdd`), derived by `derive` when it is not the last one.
    func key(secret: String, day: Substring, derive: () -> SymmetricKey) -> SymmetricKey {
        if let entry = last.withLock({ $0 }), entry.day == day, entry.secret == secret { return entry.key }
        let key = derive()
        last.withLock { $0 = Entry(secret: secret, day: day, key: key) }
        return key
    }
}
