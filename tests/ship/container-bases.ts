/**
 * Base images for building the project's Dockerfile where no registry is reachable: made from Debian's
 * packages with mmdebstrap, kept as tarballs in a cache outside the repository (named by a hash of
 * everything that goes into them, so a change makes a new one and a second run reuses them), and
 * imported into Podman.
 *
 * - The build base stands in for `oven/bun`: Debian (minbase) with ca-certificates and the `bun`
 *   binary the project runs on (node_modules/.bin/bun) at /usr/local/bin/bun. It also trusts what this
 *   machine trusts (its CA bundle, through NODE_EXTRA_CA_CERTS), for `bun install` from the npm
 *   registry behind a TLS-inspecting proxy; only the build stage sees it.
 * - The runtime base stands in for `gcr.io/distroless/base-debian12:nonroot`: glibc and its files
 *   unpacked (no shell, no package manager run), /etc/passwd and /etc/group with root, nobody and
 *   nonroot (uid 65532), /home/nonroot and /tmp.
 */
import { readdir, realpath, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, run } from "../helpers/process.ts";

export const CACHE_DIR = process.env.WALLET_CONTAINER_CACHE ?? "/var/cache/wallet-container-bases";
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const HOST_CA_IN_BASE = "/etc/ssl/certs/host-ca-certificates.crt";

interface Recipe {
  name: "build" | "runtime";
  /** mmdebstrap's options (hooks included); the suite, target and mirror are added. */
  options: string[];
  /** `podman import --change` instructions. */
  changes: string[];
  /** Files copied in by the hooks: their contents are part of the cache key. */
  inputs: string[];
}

/** The CA bundle this machine trusts (what `bun install` on the host uses), if any. */
async function hostCaBundle(): Promise<string | undefined> {
  for (const candidate of [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"]) {
    if (candidate !== undefined && (await Bun.file(candidate).exists())) return candidate;
  }
  return undefined;
}

async function recipes(): Promise<Recipe[]> {
  const bun = await realpath(join(ROOT, "node_modules/.bin/bun"));
  const ca = await hostCaBundle();
  const passwd = [
    "root:x:0:0:root:/root:/sbin/nologin",
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
  ];
  const group = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:"];
  const lines = (list: string[]) => `${list.join("\\n")}\\n`;
  return [
    {
      name: "build",
      options: [
        "--variant=minbase",
        "--include=ca-certificates",
        `--customize-hook=install -m 0755 '${bun}' "$1/usr/local/bin/bun"`,
        `--customize-hook=ln -sf bun "$1/usr/local/bin/bunx"`,
        ...(ca === undefined ? [] : [`--customize-hook=install -m 0644 '${ca}' "$1${HOST_CA_IN_BASE}"`]),
      ],
      changes: [
        `ENV ${PATH_ENV}`,
        ...(ca === undefined ? [] : [`ENV NODE_EXTRA_CA_CERTS=${HOST_CA_IN_BASE}`]),
      ],
      inputs: [bun, ...(ca === undefined ? [] : [ca])],
    },
    {
      name: "runtime",
      options: [
        "--variant=extract",
        "--include=libc6",
        // No device nodes: the container runtime provides /dev.
        "--skip=output/dev",
        `--extract-hook=mkdir -p "$1/etc" && printf '${lines(passwd)}' > "$1/etc/passwd" && printf '${lines(group)}' > "$1/etc/group"`,
        `--extract-hook=install -d -m 0700 -o 65532 -g 65532 "$1/home/nonroot" && install -d -m 1777 "$1/tmp"`,
      ],
      changes: [`ENV ${PATH_ENV}`, "USER 65532:65532", "WORKDIR /home/nonroot"],
      inputs: [],
    },
  ];
}

async function keyOf(recipe: Recipe): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(JSON.stringify([SUITE, MIRROR, recipe.options, recipe.changes]));
  for (const input of recipe.inputs) hasher.update(await Bun.file(input).bytes());
  return hasher.digest("hex").slice(0, 16);
}

export interface Base {
  /** The image reference to pass as a build argument. */
  image: string;
  /** True when the tarball had to be made (not found in the cache). */
  made: boolean;
}

async function must(command: string[], timeoutMs: number): Promise<string> {
  const result = await run(command, { timeoutMs });
  if (result.exitCode !== 0) {
    throw new Error(
      `${command.slice(0, 3).join(" ")} … failed (${result.exitCode}): ${result.stderr.slice(-3000)}`,
    );
  }
  return result.stdout;
}

/**
 * Makes (or finds in the cache) the tarball of each base and imports it into Podman as
 * `<prefix>/<name>-base:<key>`; returns the image references by name.
 */
export async function prepareBases(prefix: string): Promise<Record<Recipe["name"], Base>> {
  await must(["mkdir", "-p", CACHE_DIR], 10_000);
  const bases: Partial<Record<Recipe["name"], Base>> = {};
  for (const recipe of await recipes()) {
    const key = await keyOf(recipe);
    const tarball = join(CACHE_DIR, `${recipe.name}-${key}.tar`);
    const made = !(await Bun.file(tarball).exists());
    if (made) {
      const partial = `${tarball}.${process.pid}.partial.tar`;
      try {
        await must(
          ["mmdebstrap", "--quiet", "--mode=root", ...recipe.options, SUITE, partial, MIRROR],
          600_000,
        );
        await rename(partial, tarball);
      } finally {
        await rm(partial, { force: true });
      }
      // Tarballs of older recipes are never used again.
      for (const file of await readdir(CACHE_DIR)) {
        const stale =
          file.startsWith(`${recipe.name}-`) &&
          !file.includes(".partial") &&
          file !== `${recipe.name}-${key}.tar`;
        if (stale) {
          await rm(join(CACHE_DIR, file), { force: true });
        }
      }
    }
    const image = `${prefix}/${recipe.name}-base:${key}`;
    const changes = recipe.changes.flatMap((change) => ["--change", change]);
    await must(["podman", "import", "--quiet", ...changes, tarball, image], 300_000);
    bases[recipe.name] = { image, made };
  }
  const { build, runtime } = bases;
  if (build === undefined || runtime === undefined) throw new Error("a base image is missing");
  return { build, runtime };
}
