/**
 * Throwaway TLS material for the queue's tests, made with `openssl`: a CA,
 * a server certificate it signed for 127.0.0.1 and localhost, and a second,
 * unrelated CA (a certificate that must not verify against it).
 *
 * @module
 */

/** PEM files in a temporary folder. */
export interface TestCertificates {
  /** The folder holding them. */
  readonly dir: string;
  /** The CA's certificate. */
  readonly ca: string;
  /** The server's certificate (signed by `ca`) and key. */
  readonly cert: string;
  /** The server's private key. */
  readonly key: string;
  /** A CA that did not sign `cert`. */
  readonly otherCa: string;
  /** Removes the folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Makes the CA, the server certificate and the other CA (~1 s). */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "horizon_tls_" });
  const ca = (name: string) =>
    openssl(dir, [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-subj",
      `/CN=horizon test ${name}`,
    ]);
  await ca("ca");
  await ca("other-ca");
  await openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ]);
  return {
    dir,
    ca: `${dir}/ca.crt`,
    cert: `${dir}/server.crt`,
    key: `${dir}/server.key`,
    otherCa: `${dir}/other-ca.crt`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
