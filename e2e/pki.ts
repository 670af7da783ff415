/**
 * Throw-away certificates for the e2e's servers (openssl): one CA, and leaf certificates for
 * 127.0.0.1 signed by it; the API server's service-account signing key. Nothing is reused.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export interface Ca {
  dir: string;
  cert: string;
  key: string;
  /** PEM text of the CA certificate. */
  pem: string;
}

/** A new CA in `dir`. */
export function makeCa(dir: string, name: string): Ca {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}-ca.key`,
      "-out",
      `${name}-ca.crt`,
      "-days",
      "2",
      "-subj",
      `/CN=${name} e2e CA`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  const cert = join(dir, `${name}-ca.crt`);
  return { dir, cert, key: join(dir, `${name}-ca.key`), pem: readFileSync(cert, "utf8") };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`: `{ cert, key }` paths. */
export function makeServerCert(ca: Ca, name: string, extraSans: string[] = []): { cert: string; key: string } {
  const dir = ca.dir;
  const sans = ["IP:127.0.0.1", "DNS:localhost", ...extraSans].join(",");
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
    dir,
  );
  openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`],
    dir,
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** An RSA key pair for the API server's service-account tokens: `{ key, pub }` paths. */
export function makeSigningKey(dir: string, name: string): { key: string; pub: string } {
  openssl(["genrsa", "-out", `${name}.key`, "2048"], dir);
  openssl(["rsa", "-in", `${name}.key`, "-pubout", "-out", `${name}.pub`], dir);
  return { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pub`) };
}
