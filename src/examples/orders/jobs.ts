/**
 * The bundled jobs module: the order pipeline with its default settings
 * (src/examples/orders/pipeline.ts). The worker hosts it when SPOOL_JOBS is
 * not set:
 *
 *   curl -X POST localhost:8787/orders -H 'content-type: application/json' \
 *        -d '{"clientOrderId":"A-1","items":[{"sku":"mug","qty":2}],"paymentToken":"tok_visa","email":"a@example.com"}'
 *   curl localhost:8787/orders/<id>
 */
import { createOrderPipeline } from "./pipeline.ts";

export default createOrderPipeline();
