import ArgumentParser
import Foundation
import PackLedgerKit

extension RecordReader.Format: ExpressibleByArgument {}

/// Prints `count, rate, ETA` on a terminal; nothing when standard error is piped.
struct ProgressPrinter {
    let verb: String
    private var lastPrint = 0.0

    init(verb: String) { self.verb = verb }

    mutating func update(_ p: IngestProgress) {
        guard Console.isInteractive, p.elapsed - lastPrint >= 0.5 else { return }
        lastPrint = p.elapsed
        let rate = Double(p.records) / max(p.elapsed, 0.001)
        var line = "\(verb) \(p.records) records, \(Int(rate))/s"
        if let total = p.totalBytes, total > 0, p.bytesRead > 0 {
            let remaining = p.elapsed * Double(total - p.bytesRead) / Double(p.bytesRead)
            line += String(format: ", %.0f%%, ETA %.0fs", 100 * Double(p.bytesRead) / Double(total), remaining)
        }
        Console.progress(line)
    }
}

extension PackLedgerCommand {
    /// `packledger sign FILE|- --actor ID --key FILE`
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign events offline (JSON Lines or CSV in), writing signed JSON Lines; needs no ledger.")

        @Argument(help: "Input file, or - for standard input.") var file: String
        @Option(help: "The acting party id (fills in a missing actor).") var actor: String
        @Option(help: "The actor's private key (PEM).") var key: String
        @Option(help: "Output file (default: standard output). Written only if every record is valid.") var out: String?
        @Option(help: "Input format, jsonl or csv (default: by extension, else by the first byte).") var format: RecordReader.Format?
        @Option(help: "Sign in batches of N events: one signature over each batch's Merkle root (Schema/FORMAT.md §13).") var batch: Int?

        func run() throws {
            let privateKey = try loadPrivateKey(key)
            let reader = try RecordReader(path: file, format: format)
            var printer = ProgressPrinter(verb: "signed")
            // With --out, write to a temporary file renamed into place at the end, so a bad record
            // leaves no partial output. To standard output, each chunk is written once all of its
            // records have been checked.
            let temp = out.map { $0 + ".partial-\(getpid())" }
            if let temp, !FileManager.default.createFile(atPath: temp, contents: nil) {
                throw LedgerError(.storage, "cannot create \(temp)")
            }
            let handle = temp.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.standardOutput
            do {
                let count = try Ingest.sign(reader, actor: actor, key: privateKey, batchSize: batch, write: { handle.write(Data($0)) },
                                            progress: { printer.update($0) })
                Console.endProgress()
                if let temp, let out {
                    try handle.synchronize()
                    try handle.close()
                    guard rename(temp, out) == 0 else { throw LedgerError(.storage, "cannot rename \(temp) to \(out)") }
                    Console.error("signed \(count) events as \(actor) into \(out)")
                }
            } catch {
                Console.endProgress()
                if let temp { try? FileManager.default.removeItem(atPath: temp) }
                throw error
            }
        }
    }

    /// `packledger import FILE|- [--actor ID --key FILE]`
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import JSON Lines or CSV events, signed or not, as one all-or-nothing transaction.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Input file, or - for standard input.") var file: String
        @Option(help: "For unsigned records: the acting party id.") var actor: String?
        @Option(help: "For unsigned records: the actor's private key (PEM).") var key: String?
        @Option(name: .customLong("input-format"), help: "Input format, jsonl or csv (default: by extension, else by the first byte).")
        var inputFormat: RecordReader.Format?

        func validate() throws {
            guard (actor == nil) == (key == nil) else { throw ValidationError("--actor and --key go together") }
        }

        func run() throws {
            let privateKey = try key.map { path throws(LedgerError) in try loadPrivateKey(path) }
            let reader = try RecordReader(path: file, format: inputFormat)
            let ledger = try ledger.open()
            var printer = ProgressPrinter(verb: "imported")
            let summary: ImportSummary
            do {
                summary = try ledger.importRecords(from: reader, actor: actor, key: privateKey, progress: { printer.update($0) })
                Console.endProgress()
            } catch {
                Console.endProgress()
                throw LedgerError(error.code, "import rejected, nothing written: \(error.reason)", at: error.location)
            }
            switch output.format {
            case .json:
                Console.json(.object([
                    "records": .count(UInt64(summary.records)), "appended": .count(UInt64(summary.appended)),
                    "duplicates": .count(UInt64(summary.duplicates)),
                    "first_seq": summary.firstSeq.map { .count($0) } ?? .null, "last_seq": summary.lastSeq.map { .count($0) } ?? .null,
                ]))
            case .table:
                let range = summary.firstSeq.map { " as entries \($0)–\(summary.lastSeq ?? $0)" } ?? ""
                print("imported \(summary.appended) of \(summary.records) records\(range); \(summary.duplicates) already present")
            }
        }
    }
}
