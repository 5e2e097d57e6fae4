/**
 * The order pipeline (src/example/orders/pipeline.ts) as a jobs module, with
 * its default settings. The worker hosts the same pipeline when SPOOL_JOBS
 * is not set (reading SPOOL_EXAMPLE_MAIL_FAILURE_RATE for it); this file is
 * the form to copy, or to name in SPOOL_JOBS:
 *
 *   curl -X POST localhost:8787/orders -H 'content-type: application/json' \
 *        -d '{"clientOrderId":"A-1","items":[{"sku":"mug","qty":2}],"paymentToken":"tok_visa","email":"a@example.com"}'
 *   curl localhost:8787/orders/<id>
 */
import { createOrderPipeline } from "./pipeline.ts";

export default createOrderPipeline();
