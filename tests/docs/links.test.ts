/**
 * The repo carries its own story: every link in README.md and docs/ leads to a file of this repo
 * that exists, never to another site or to a folder beside the repo.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const DOCUMENTS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** Markdown links `[text](target)` and autolinks `<scheme://…>`, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replaceAll(/```[\s\S]*?```/g, "").replaceAll(/`[^`\n]*`/g, "");
  const inline = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? "");
  const auto = [...prose.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]+)>/gi)].map((match) => match[1] ?? "");
  return [...inline, ...auto];
}

describe("links in README.md and docs/", () => {
  for (const document of DOCUMENTS) {
    test(`${document}: every link is a file of this repo that exists`, async () => {
      const links = linksOf(await Bun.file(join(ROOT, document)).text());
      for (const link of links) {
        expect(link, `${document} links to ${link}`).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
        const [path = ""] = link.split("#");
        if (path === "") continue;
        const target = resolve(dirname(join(ROOT, document)), decodeURI(path));
        expect(relative(ROOT, target).startsWith(".."), `${document} links outside the repo: ${link}`).toBe(
          false,
        );
        expect(await pathExists(target), `${document} links to a missing ${link}`).toBe(true);
      }
    });
  }
});

/** A file or a folder. */
async function pathExists(path: string): Promise<boolean> {
  try {
    readdirSync(path);
    return true;
  } catch {
    return Bun.file(path).exists();
  }
}
