import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct INIFileTests {
    @Test func sectionsKeysCommentsAndWhitespace() {
        let file = INIFile(parsing: """
            # a comment
            ; another
            [default]
            aws_access_key_id=AKIA1
              
            [ profile  work ]   # trailing comment
            Region = eu-west-1
            credential_process = /bin/tool --arg "a b" # not a comment
            stray line without equals
            role_arn: arn:aws:iam::1:role/r
            """)
        #expect(file.sections.map(\.name) == ["default", "profile  work"])
        #expect(file.properties(of: "default") == ["aws_access_key_id": "AKIA1"])
        #expect(file.sections[1].properties["region"] == "eu-west-1")
        #expect(file.sections[1].properties["credential_process"] == #"/bin/tool --arg "a b" # not a comment"#)
        #expect(file.sections[1].properties["role_arn"] == "arn:aws:iam::1:role/r")
    }

    @Test func nestedSubsectionsDoNotLeakIntoTheProfile() {
        let file = INIFile(parsing: """
            [profile dev]
            s3 =
              max_concurrent_requests = 20
              addressing_style = path
            region = us-east-2
            """)
        #expect(file.properties(of: "profile dev") == ["s3": "", "region": "us-east-2"])
        #expect(file.sections[0].subsections["s3"] == ["max_concurrent_requests": "20", "addressing_style": "path"])
    }

    @Test func continuationLinesAndCRLFAndRepeatedSections() {
        let file = INIFile(parsing: "[a]\r\nk = one\r\n  two\r\n[b]\r\nx = 1\r\n[a]\r\nk2 = v\r\n")
        #expect(file.properties(of: "a") == ["k": "one\ntwo", "k2": "v"])
        #expect(file.properties(of: "b") == ["x": "1"])
        #expect(file.properties(of: "c") == nil)
    }

    @Test func brokenHeaderAndKeysBeforeAnySectionAreSkipped() {
        let file = INIFile(parsing: "orphan = 1\n[broken\nk = v\n[ok]\nk = w\n")
        #expect(file.sections.map(\.name) == ["ok"])
        #expect(file.properties(of: "ok") == ["k": "w"])
    }
}
