/**
 * Serve a stand-in resource provider to the real Pulumi engine, for the providers the Go module
 * proxy refuses (pulumi-vault, pulumi-random: see e2e/README.md). The engine starts it as
 * `pulumi-resource-<name>` from PATH and speaks the real provider protocol to it through the
 * SDK's own provider server (`@pulumi/pulumi/provider`).
 *
 * A stand-in is strict where a fake could hide a mistake: an input property it does not know
 * fails `check` (the real provider's schema would refuse it or treat it otherwise), and every
 * value it writes goes to the real server (Vault), which judges it.
 */
import * as grpc from "@grpc/grpc-js";
import { type CheckResult, type DiffResult, main, type Provider } from "@pulumi/pulumi/provider";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Props = Record<string, Json>;

/** A value with the engine's secret and output wrappers removed (the wire form of `pulumi.secret`). */
export function unwrap(value: unknown): Json {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) return unwrap(o.value);
    if (o[SECRET_SIG_KEY] === OUTPUT_SIG) return o.value === undefined ? UNKNOWN : unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrap(v)]));
  }
  return value as Json;
}

/** True when the value holds an unknown (a preview's not-yet-computed output) anywhere. */
export function hasUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (value !== null && typeof value === "object") return Object.values(value as object).some(hasUnknown);
  return false;
}

/** Wrap a value as a secret on the wire. */
export function secret(value: Json): Json {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

/** One resource type of a stand-in. */
export interface TypeHandler {
  /** Input properties the program may set (anything else fails `check`). */
  known: readonly string[];
  /** Input properties whose change replaces the resource (the real provider's force-new set). */
  replaceOn: readonly string[];
  /** Creates the resource; returns its id and output properties beyond the inputs. */
  create(inputs: Props): Promise<{ id: string; outs?: Props }>;
  /** Applies changed inputs in place. Default: `create` again (Vault's writes are upserts). */
  update?(id: string, olds: Props, news: Props): Promise<Props | void>;
  delete(id: string, props: Props): Promise<void>;
}

/** The resource type of a URN: `urn:pulumi:stack::project::parent$type::name` → `type`. */
export function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? qualified;
}

/**
 * Serve `types` as the provider `name`. `configure` receives the provider's configuration
 * (the explicit provider's inputs, unwrapped), which the SDK's server does not pass on.
 */
export async function serve(name: string, types: Record<string, TypeHandler>, configure?: (config: Props) => Promise<void> | void): Promise<void> {
  const handler = (urn: string): TypeHandler => {
    const t = types[typeOfUrn(urn)];
    if (!t) throw new Error(`stand-in ${name}: no handler for ${typeOfUrn(urn)} (${urn}); add one to e2e/providers`);
    return t;
  };
  const inputsOf = (props: Props, t: TypeHandler): Props => Object.fromEntries(Object.entries(props).filter(([k]) => t.known.includes(k)));
  const provider: Provider = {
    version: "0.0.0-e2e",
    async check(urn, _olds, news): Promise<CheckResult> {
      const t = handler(urn);
      const failures = Object.keys(news as object)
        .filter((k) => !k.startsWith("__") && !t.known.includes(k))
        .map((property) => ({ property, reason: `stand-in ${name}: unknown input ${property} of ${typeOfUrn(urn)}` }));
      return { inputs: news, failures };
    },
    async diff(_id, urn, olds, news): Promise<DiffResult> {
      const t = handler(urn);
      const o = unwrap(olds) as Props;
      const n = unwrap(news) as Props;
      const changed = [...new Set([...Object.keys(inputsOf(o, t)), ...Object.keys(inputsOf(n, t))])].filter(
        (k) => hasUnknown(n[k]) || JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null),
      );
      return { changes: changed.length > 0, replaces: changed.filter((k) => t.replaceOn.includes(k)) };
    },
    async create(urn, inputs) {
      const t = handler(urn);
      const { id, outs } = await t.create(unwrap(inputs) as Props);
      return { id, outs: { ...(inputs as Props), ...outs } };
    },
    async update(id, urn, olds, news) {
      const t = handler(urn);
      const n = unwrap(news) as Props;
      const outs = t.update ? await t.update(id, unwrap(olds) as Props, n) : (await t.create(n)).outs;
      return { outs: { ...(news as Props), ...(outs ?? {}) } };
    },
    async delete(id, urn, props) {
      await handler(urn).delete(id, unwrap(props) as Props);
    },
  };

  // The SDK's provider server answers Configure without passing the configuration on: wrap its
  // handler, once, to hand the configuration to the stand-in first.
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) {
    const base = impl.configure as grpc.handleUnaryCall<unknown, unknown> | undefined;
    if (base && configure) {
      impl.configure = (call: grpc.ServerUnaryCall<ConfigureRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const args = call.request.getArgs()?.toJavaScript();
        const config = args ? (unwrap(args) as Props) : variables(call.request.getVariablesMap().toObject());
        Promise.resolve(configure(config)).then(
          () => base(call as grpc.ServerUnaryCall<unknown, unknown>, callback),
          (e: Error) => callback({ code: grpc.status.INVALID_ARGUMENT, details: e.message }),
        );
      };
    }
    return addService.call(this, service, impl);
  };
  await main(provider, process.argv.slice(2));
}

interface ConfigureRequest {
  getArgs(): { toJavaScript(): unknown } | undefined;
  getVariablesMap(): { toObject(): [string, string][] };
}

/** The legacy `variables` map (`<pkg>:config:<key>` → JSON or text) as properties. */
function variables(entries: [string, string][]): Props {
  const out: Props = {};
  for (const [k, v] of entries) {
    const key = k.split(":").pop() as string;
    try {
      out[key] = JSON.parse(v) as Json;
    } catch {
      out[key] = v;
    }
  }
  return out;
}
