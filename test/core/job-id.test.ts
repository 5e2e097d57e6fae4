import { describe, expect, it } from "vitest";
import { isJobId } from "../../src/core/job-id.ts";

describe("job ids", () => {
  it("are the decimal text of a rowid of at most 18 digits", () => {
    for (const id of ["1", "0", "42", "999999999999999999"]) expect(isJobId(id)).toBe(true);
    for (const id of ["", "1234567890123456789", "-1", "1.5", "1e3", " 1", "1 ", "abc", 1, null, undefined]) expect(isJobId(id)).toBe(false);
  });
});
