/**
 * The offline engine behind the tests and the plan, bench and readme commands: stack files
 * (stack-files.ts), the mock engine that runs the program (mock-engine.ts), the fake provider
 * answers (fakes.ts), the wire format (wire.ts), and the language host's loading path
 * (language-host.ts). Entry points live in scripts/.
 */
export * from "./fakes";
export * from "./mock-engine";
export * from "./stack-files";
export * from "./wire";
