import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "./context.js";
import { metadataQuery, publishContentType } from "./publish.js";

test("cli - publish sends JSON as application/json and a CloudEvent envelope as application/cloudevents+json", () => {
  assert.equal(publishContentType('{"orderId":1}'), "application/json");
  assert.equal(publishContentType('{"id":"1","source":"s","specversion":"1.0","type":"t","data":{}}'), "application/cloudevents+json");
  assert.equal(publishContentType("plain"), "application/json");
});

test("cli - publish metadata becomes metadata.<key> query parameters", () => {
  assert.equal(metadataQuery(undefined), "");
  assert.equal(metadataQuery("{}"), "");
  assert.equal(metadataQuery('{"ttlInSeconds":"10","raw":true,"a b":"c&d"}'), "?metadata.ttlInSeconds=10&metadata.raw=true&metadata.a+b=c%26d");
  assert.throws(() => metadataQuery("nope"), CliError);
  assert.throws(() => metadataQuery("[1]"), CliError);
});
