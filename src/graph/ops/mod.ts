/**
 * Registers every primitive op (import for the side effect).
 *
 * @module
 */

import "./elementwise.ts";
import "./matmul.ts";
import "./reduce.ts";
import "./shape.ts";
import "./gather.ts";
import "./softmax.ts";
import "./slice.ts";
import "./concat.ts";
