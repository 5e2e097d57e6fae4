/**
 * The bundled jobs module: the order pipeline (src/examples/orders/pipeline.ts)
 * with its default settings. The worker hosts it when SPOOL_JOBS is not set:
 *
 *   curl -X POST localhost:8787/orders -H 'content-type: application/json' \
 *        -d '{"clientOrderId":"A-1","items":[{"sku":"mug","qty":2}],"paymentToken":"tok_visa","email":"a@example.com"}'
 *   curl localhost:8787/orders/<id>
 *
 * SPOOL_EXAMPLE_MAIL_FAILURE_RATE (0..1, default 0.05) sets how often the
 * simulated mailer fails; a bad value stops the worker at startup, naming it.
 */
import { SpoolError } from "../../core/errors.ts";
import { readEnvironment } from "../../runtime/host.ts";
import { type OrderPipeline, createOrderPipeline } from "./pipeline.ts";

const RATE_VARIABLE = "SPOOL_EXAMPLE_MAIL_FAILURE_RATE";

function bundledPipeline(): OrderPipeline {
  const raw = readEnvironment()[RATE_VARIABLE];
  if (raw === undefined || raw.trim() === "") return createOrderPipeline();
  const rate = Number(raw);
  if (rate >= 0 && rate <= 1) return createOrderPipeline({ mailFailureRate: rate });
  // refused in setup, which the worker awaits inside its startup error handling
  return {
    ...createOrderPipeline(),
    setup() {
      throw new SpoolError("INVALID_CONFIG", `${RATE_VARIABLE} must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
    },
  };
}

export default bundledPipeline();
