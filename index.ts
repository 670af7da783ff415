// The Veza secrets platform: one stack per environment. See README.md.
import { run } from "./stacks/program";

export = run();
