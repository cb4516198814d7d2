// storage-bench: `swift run -c release storage-bench [--quick] [--json FILE] [--svg FILE] ...`
// See Command.swift for the options and BenchPlan for what runs.
StorageBenchCommand.main()
