import assert from "node:assert/strict";
import { findCycles, importSpecifiers, packageOf } from "./check_cycles.ts";

function tree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync();
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${root}/${path.split("/").slice(0, -1).join("/")}`, {
      recursive: true,
    });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("a file cycle through a type-only import is found", () => {
  const root = tree({
    "src/a/x.ts": 'import type { Y } from "./y.ts";\nexport type X = 1;',
    "src/a/y.ts": 'import type { X } from "./x.ts";\nexport type Y = 2;',
    "src/a/z.ts": 'import type { X } from "./x.ts";',
  });
  try {
    const r = findCycles(root);
    assert.deepEqual(r.fileCycles, [["src/a/x.ts", "src/a/y.ts"]]);
    assert.deepEqual(r.packageCycles, []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a package cycle without a file cycle is found", () => {
  const root = tree({
    "src/a/one.ts": 'import { two } from "../b/two.ts";\nexport const one = 1;',
    "src/b/two.ts": "export const two = 2;",
    "src/b/three.ts": 'import { one } from "../a/one.ts";',
    "hypotheses/h.ts": 'import { one } from "../src/a/one.ts";',
  });
  try {
    const r = findCycles(root);
    assert.deepEqual(r.fileCycles, []);
    assert.deepEqual(r.packageCycles, [["src/a", "src/b"]]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("tests, doc examples and comments do not count", () => {
  const root = tree({
    "src/a/x.ts":
      '/**\n * import { y } from "./y.ts";\n */\n// import "./y.ts";\n',
    "src/a/y.ts": 'import "./x.ts";',
    "src/a/y_test.ts": 'import "./x.ts";',
    "src/a/x_test.ts": 'import "./y_test.ts";',
  });
  try {
    const r = findCycles(root);
    assert.deepEqual(r.fileCycles, []);
    assert.equal(r.files, 2);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("the tree itself has no import cycle", () => {
  const r = findCycles(new URL("..", import.meta.url).pathname);
  assert.deepEqual(r.fileCycles, []);
  assert.deepEqual(r.packageCycles, []);
});

Deno.test("packages and specifiers", () => {
  assert.equal(packageOf("src/graph/ops/add.ts"), "src/graph");
  assert.equal(packageOf("hypotheses/mod.ts"), "hypotheses");
  assert.equal(packageOf("mod.ts"), "mod.ts");
  assert.deepEqual(
    importSpecifiers('export { a } from "./a.ts";\nimport x from "npm:y";'),
    ["./a.ts"],
  );
});
