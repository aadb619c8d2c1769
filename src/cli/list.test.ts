import assert from "node:assert/strict";
import { test } from "node:test";
import { age, created, formatTable, type ListRow } from "./list.js";

test("cli - list AGE is the largest whole unit, as dapr prints it", () => {
  assert.equal(age(0), "0s");
  assert.equal(age(59_999), "59s");
  assert.equal(age(60_000), "1m");
  assert.equal(age(3 * 3_600_000 + 5), "3h");
  assert.equal(age(50 * 3_600_000), "2d");
  assert.equal(age(-5), "0s");
});

test("cli - list CREATED uses dapr's layout", () => {
  assert.equal(created(new Date(2024, 0, 2, 3, 4, 5)), "2024-01-02 03:04.05");
});

test("cli - list table has dapr's columns and truncates long commands", () => {
  const row: ListRow = {
    appId: "orders", httpPort: 3500, grpcPort: 50001, appPort: 3000, metricsEnabled: true,
    command: "node a-very-long-application-file-name.js", age: "5m", created: "2024-01-02 03:04.05",
    daprdPid: 11, cliPid: 10, appPid: 12, maxRequestBodySize: 4, httpReadBufferSize: 4,
    runTemplatePath: "", appLogPath: "", daprdLogPath: "", runTemplateName: "",
  };
  const [header, line] = formatTable([row]).trimEnd().split("\n");
  assert.deepEqual(header?.split(/\s{2,}/), ["APP ID", "HTTP PORT", "GRPC PORT", "APP PORT", "COMMAND", "AGE", "CREATED", "DAPRD PID", "CLI PID", "APP PID"]);
  assert.deepEqual(line?.split(/\s{2,}/), ["orders", "3500", "50001", "3000", "node a-very-long-app...", "5m", "2024-01-02 03:04.05", "11", "10", "12"]);
});
