-- bench/report.lua — wrk script used by bench/run.
--
-- Leaves the requests as wrk makes them (plain GET of the URL on the command line) and,
-- when wrk is done, prints ONE line to stdout that bench/run parses:
--
--   BENCH_RESULT {"requests":N,"duration_s":S,"rps":R,"bytes":B,
--                 "p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..,
--                 "errors":{"connect":..,"read":..,"write":..,"status":..,"timeout":..}}
--
-- Latencies come from wrk's own histogram (microseconds) and are printed in milliseconds.
-- "status" counts responses with a status >= 400; any error makes bench/run flag the run.

done = function(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local function ms(us) return us / 1000.0 end
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, secs, summary.requests / secs, summary.bytes,
      ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
      ms(latency.max), ms(latency.mean),
      e.connect, e.read, e.write, e.status, e.timeout))
end
