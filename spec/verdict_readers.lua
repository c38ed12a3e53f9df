-- verdict_readers.lua - the verdict files as CI reads them, by other
-- programs than fwsh: the JSON checked against docs/verdict.schema.json by
-- python3-jsonschema, the JUnit XML read by python3-junitparser (the
-- system's python3, which deps.sh gives both).
local H = require "helper"

local R = {}
local PY = "/usr/bin/python3"

local VALIDATE = [[
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
print("valid")
]]

local JUNIT = [[
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    print("suite", suite.name, suite.tests, suite.failures)
    for case in suite:
        bad = [r.message for r in case.result if isinstance(r, Failure)]
        print("case", case.name, "|", bad[0] if bad else "ok")
]]

R.schema = H.root .. "/docs/verdict.schema.json"

--- validate(file [, schema]) -> output, ok: "valid\n" when file holds to the schema
function R.validate(file, schema)
  return H.run({ PY, "-c", VALIDATE, schema or R.schema, file }, { stderr = true })
end

--- junit(file) -> output, ok: "suite NAME TESTS FAILURES" and "case NAME | ok|MESSAGE" lines
function R.junit(file)
  return H.run({ PY, "-c", JUNIT, file }, { stderr = true })
end

return R
