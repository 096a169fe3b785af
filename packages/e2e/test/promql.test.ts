import { describe, expect, it } from "vitest";
import { exportedNames, metricNames } from "./promql.ts";

describe("metricNames", () => {
  it("finds the metrics, not functions, keywords, labels, strings or durations", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (channel, le) (rate(tidings_provider_request_duration_seconds_bucket{job="x"}[5m])))',
      ),
    ).toEqual(["tidings_provider_request_duration_seconds_bucket"]);
    expect(
      metricNames(
        "sum(rate(a_total[15m])) < 0.5 * sum(rate(a_total[15m] offset 1h)) and on (channel) max by (queue) (b) > 1e3",
      ).sort(),
    ).toEqual(["a_total", "b"]);
    expect(metricNames('up{job="tidings-workers"} == 0')).toEqual(["up"]);
    expect(
      metricNames("max by (instance) (rabbitmq_process_open_fds / rabbitmq_process_max_fds) > 0.8"),
    ).toEqual(["rabbitmq_process_open_fds", "rabbitmq_process_max_fds"]);
  });
});

describe("exportedNames", () => {
  it("reads # TYPE lines, a histogram's series included", () => {
    const names = exportedNames('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE c counter\n');
    expect([...names].sort()).toEqual(["c", "h", "h_bucket", "h_count", "h_sum"]);
  });
});
