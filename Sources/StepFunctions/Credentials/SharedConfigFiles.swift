import FoundationEssentials

/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` and
/// `AWS_CONFIG_FILE`), read together: a profile's settings are those of its config section
/// (`[profile NAME]`, or `[default]`), overridden by its credentials section (`[NAME]`).
struct SharedConfigFiles: Sendable {
    var credentialsPath: String
    var configPath: String
    var credentialsFile: INIFile?
    var configFile: INIFile?

    /// Reads both files; a missing file is empty, an unreadable one is an error.
    static func load(environment: [String: String], source: String) throws(CredentialError) -> SharedConfigFiles {
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", environment)
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", environment)
        return SharedConfigFiles(
            credentialsPath: credentialsPath,
            configPath: configPath,
            credentialsFile: try read(credentialsPath, source: source),
            configFile: try read(configPath, source: source)
        )
    }

    /// The profile's merged settings, nil when neither file has it.
    func profile(_ name: String) -> [String: String]? {
        var fromConfig: [String: String]?
        if let configFile {
            // `[profile default]` is accepted too, and wins over `[default]`.
            let plain = name == "default" ? configFile.properties(of: "default") : nil
            let prefixed = configFile.sections
                .filter { section in
                    let parts = section.name.split(whereSeparator: \.isWhitespace)
                    return parts.count == 2 && parts[0] == "profile" && parts[1] == name
                }
                .reduce(into: [String: String]?.none) { merged, section in
                    merged = (merged ?? [:]).merging(section.properties) { _, later in later }
                }
            if plain != nil || prefixed != nil {
                fromConfig = (plain ?? [:]).merging(prefixed ?? [:]) { _, later in later }
            }
        }
        let fromCredentials = credentialsFile?.properties(of: name)
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        return (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, later in later }
    }

    /// `~` and `~/…` become `$HOME/…`; with no HOME the path stays as it is (and is not found).
    static func expand(_ path: String, _ environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = environment["HOME"], !home.isEmpty else { return path }
        return home + path.dropFirst()
    }

    private static func read(_ path: String, source: String) throws(CredentialError) -> INIFile? {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failed(source, "cannot read \(path)")
        }
        return INIFile(parsing: String(decoding: data, as: UTF8.self))
    }
}
