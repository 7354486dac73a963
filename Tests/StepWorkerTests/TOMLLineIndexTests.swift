import StepWorker
import Testing

@Suite("TOMLLineIndex: the line of a key")
struct TOMLLineIndexTests {
    let text = """
        # comment [not.a.table]
        title = "x" # trailing [comment]

        [aws]
        region = "eu-west-1"
        "quoted key" = 1
        [worker]
          name = '''
        a = "not a key"
        '''
        log_level = "info"

        [[activity]]
        arn = "a"
        command = [
          "/bin/sh",  # a comment = inside
          "-c",
        ]
        environment = { A = "b", C = { D = 1 } }
        exit_codes.75 = "X"

        [activity.environment2]
        Q = "r"

        [[activity]]
        arn = "b"
        """

    var index: TOMLLineIndex { TOMLLineIndex(text: text) }

    func path(_ components: ConfigKeyPath.Component...) -> ConfigKeyPath {
        ConfigKeyPath(components)
    }

    @Test func topLevelKeyAfterComment() {
        #expect(index.line(for: path(.key("title"))) == 2)
    }

    @Test func tablesAndTheirKeys() {
        #expect(index.line(for: path(.key("aws"))) == 4)
        #expect(index.line(for: path(.key("aws"), .key("region"))) == 5)
        #expect(index.line(for: path(.key("aws"), .key("quoted key"))) == 6)
        #expect(index.line(for: path(.key("worker"), .key("name"))) == 8)
    }

    @Test func multilineStringsHideTheirContent() {
        #expect(!index.contains(path(.key("worker"), .key("a"))))
        #expect(index.line(for: path(.key("worker"), .key("log_level"))) == 11)
    }

    @Test func arraysOfTablesAreIndexed() {
        #expect(index.line(for: path(.key("activity"))) == 13)
        #expect(index.line(for: path(.key("activity"), .index(0))) == 13)
        #expect(index.line(for: path(.key("activity"), .index(0), .key("arn"))) == 14)
        #expect(index.line(for: path(.key("activity"), .index(1), .key("arn"))) == 26)
    }

    @Test func multilineArraysPointAtTheirKey() {
        #expect(index.line(for: path(.key("activity"), .index(0), .key("command"), .index(1))) == 15)
        #expect(!index.contains(path(.key("activity"), .index(0), .key("a comment"))))
    }

    @Test func inlineTablesPointAtTheKeyHoldingThem() {
        #expect(index.line(for: path(.key("activity"), .index(0), .key("environment"), .key("C"), .key("D"))) == 19)
    }

    @Test func dottedKeys() {
        #expect(index.line(for: path(.key("activity"), .index(0), .key("exit_codes"), .key("75"))) == 20)
    }

    @Test func subTablesOfTheLastArrayElement() {
        #expect(index.line(for: path(.key("activity"), .index(0), .key("environment2"), .key("Q"))) == 23)
    }

    @Test func missingKeysFallBackToTheirTable() {
        #expect(index.line(for: path(.key("activity"), .index(1), .key("command"))) == 25)
        #expect(index.line(for: path(.key("nothing"))) == 1)
    }

    @Test func keyPathsRenderAsWritten() {
        #expect(path(.key("activity"), .index(1), .key("concurrency")).description == "activity[1].concurrency")
        #expect(path(.key("a"), .key("x y"), .key("q\"")).description == #"a."x y"."q\"""#)
    }
}
