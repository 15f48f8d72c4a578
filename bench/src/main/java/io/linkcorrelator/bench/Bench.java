package io.linkcorrelator.bench;

import io.linkcorrelator.bench.DriverRun.Result;
import io.linkcorrelator.embedded.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What linking costs, in one run: first on TopologyTestDriver with identical pre-generated records,
 * A (a plain windowed count), B (a naive list of traceparents in the aggregate) and C (the
 * correlator) at several window sizes; then end to end on the embedded broker, A (a DSL count with
 * suppress) against C (the correlator's runnable jar), see {@link EndToEnd}. Prints both tables,
 * absolute numbers and ratios against A, and the targets.
 *
 * <pre>
 * ./mvnw -B -q package -DskipTests &amp;&amp; java -jar bench/target/link-correlator-bench.jar
 * options: --records N (200000) --sizes 10,1000,100000 (none skips the driver table)
 *          --iterations 3 --time-limit-seconds 20
 *          --e2e-records 500000 (0 skips the end-to-end table) --e2e-sizes 10,100,1000
 *          --e2e-iterations 3 --correlator-jar app/target/link-correlator.jar
 * </pre>
 */
public final class Bench {

  static {
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:log4j2-bench.xml");
    }
  }

  private Bench() {}

  /**
   * What one variant measured at one window size: the median run, or the run that hit the limit.
   */
  record Measured(Variant variant, int perWindow, Result result) {}

  /**
   * Runs the benchmark and prints the table.
   *
   * @param args options, see the class documentation
   * @throws Exception when a run fails
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    int records = Integer.parseInt(options.getOrDefault("records", "200000"));
    int iterations = Integer.parseInt(options.getOrDefault("iterations", "3"));
    long limit =
        TimeUnit.SECONDS.toNanos(Long.parseLong(options.getOrDefault("time-limit-seconds", "20")));
    int e2eRecords = Integer.parseInt(options.getOrDefault("e2e-records", "500000"));
    int e2eIterations = Integer.parseInt(options.getOrDefault("e2e-iterations", "3"));
    List<Integer> e2eSizes = sizes(options.getOrDefault("e2e-sizes", "10,100,1000"));
    Path correlatorJar =
        Path.of(options.getOrDefault("correlator-jar", "app/target/link-correlator.jar"));
    List<Integer> sizes = sizes(options.getOrDefault("sizes", "10,1000,100000"));

    System.out.printf(
        "Link Correlator benchmark. TopologyTestDriver: %,d records per configuration, %d measured iterations after a warm-up, %d s limit per run%n",
        records, iterations, TimeUnit.NANOSECONDS.toSeconds(limit));
    System.out.printf(
        "%s; machine: %d cores, %s %s, %s, max heap %d MB%n",
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name"),
        System.getProperty("java.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.arch"),
        Runtime.getRuntime().maxMemory() / (1024 * 1024));

    long started = System.nanoTime();
    List<Measured> table = new ArrayList<>();
    for (int perWindow : sizes) {
      Workload workload = Workload.of(records, perWindow);
      for (Variant variant : Variant.values()) {
        Result result = measure(variant, workload, iterations, limit);
        table.add(new Measured(variant, perWindow, result));
        System.out.printf(
            "  measured %-13s at %,7d per window: %,.0f records/s%s%n",
            variant.label,
            perWindow,
            result.recordsPerSecond(),
            result.complete() ? "" : " (time limit hit)");
      }
    }
    if (!table.isEmpty()) {
      print(table);
      System.out.printf("(the TopologyTestDriver table took %s)%n", since(started));
    }

    if (e2eRecords > 0) {
      long endToEndStarted = System.nanoTime();
      endToEnd(e2eRecords, e2eSizes, e2eIterations, correlatorJar);
      System.out.printf("(the end-to-end table took %s)%n", since(endToEndStarted));
    }
    System.out.printf("the whole run took %s%n", since(started));
  }

  private static String since(long startNanos) {
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    return String.format("%d min %02d s", seconds / 60, seconds % 60);
  }

  /**
   * A against C on the embedded broker: each cell's records pre-loaded once, then read by A and C
   * in turn, {@code iterations} times each; prints the table and the targets.
   */
  static List<EndToEnd.Measured> endToEnd(
      int records, List<Integer> sizes, int iterations, Path correlatorJar) throws Exception {
    System.out.printf(
        "%nEnd to end: %,d records per cell pre-loaded in %d partitions of the embedded broker"
            + " (KRaft); %d one-second tumbling windows; A (DSL count + suppress) and C (the"
            + " correlator's jar, OTLP/HTTP) each in a JVM of their own, exactly_once_v2, commit"
            + " interval %d ms; median of %d; records/s from the JVM's launch to the last result"
            + " read%n",
        records, EndToEnd.PARTITIONS, EndToEnd.WINDOWS, EndToEnd.COMMIT_INTERVAL_MS, iterations);
    List<EndToEnd.Measured> table = new ArrayList<>();
    Path workDir = Files.createTempDirectory("bench-e2e-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      EndToEnd bench = new EndToEnd(kafka, correlatorJar, workDir);
      for (int perWindow : sizes) {
        EndToEnd.Cell cell = EndToEnd.Cell.of(records, perWindow);
        bench.preload(cell);
        for (EndToEnd.Side side : EndToEnd.Side.values()) {
          EndToEnd.Measured measured = bench.measure(side, cell, iterations);
          table.add(measured);
          System.out.printf(
              "  measured %-13s at %,7d per window: %,.0f records/s%n",
              side.label, perWindow, measured.result().recordsPerSecond());
        }
      }
    }
    EndToEnd.print(table, System.out);
    System.out.println();
    endToEndTargets(table);
    System.out.println("(application logs in " + workDir + ")");
    return table;
  }

  private static void endToEndTargets(List<EndToEnd.Measured> table) {
    for (int perWindow : List.of(100, 10)) {
      double target = perWindow == 100 ? 0.8 : 0.7;
      double a = recordsPerSecond(table, EndToEnd.Side.BASELINE, perWindow);
      double c = recordsPerSecond(table, EndToEnd.Side.CORRELATOR, perWindow);
      if (!Double.isNaN(a) && !Double.isNaN(c)) {
        System.out.printf(
            "target end to end C >= %.1f x A at %d per window: %.2f x  %s%n",
            target, perWindow, c / a, c / a >= target ? "met" : "MISSED");
      }
    }
    table.stream()
        .filter(m -> m.side() == EndToEnd.Side.CORRELATOR)
        .mapToDouble(m -> m.result().changelogBytesPerContributor())
        .max()
        .ifPresent(
            bytes ->
                System.out.printf(
                    "target <= 48 bytes of changelog per contributor end to end (C, worst cell): %.1f  %s%n",
                    bytes, bytes <= 48 ? "met" : "MISSED"));
    for (EndToEnd.Measured m : table) {
      if (m.side() == EndToEnd.Side.CORRELATOR) {
        EndToEnd.Result r = m.result();
        double bound = EndToEnd.COMMIT_INTERVAL_MS + r.roundTripP50Millis();
        System.out.printf(
            "target close -> span p99 under one commit interval + one export round trip at %d per"
                + " window: %.0f ms against %d + %.0f ms  %s%n",
            m.perWindow(),
            r.p99Millis(),
            EndToEnd.COMMIT_INTERVAL_MS,
            r.roundTripP50Millis(),
            r.p99Millis() < bound ? "met" : "MISSED");
      }
    }
  }

  private static double recordsPerSecond(
      List<EndToEnd.Measured> table, EndToEnd.Side side, int perWindow) {
    return table.stream()
        .filter(m -> m.side() == side && m.perWindow() == perWindow)
        .mapToDouble(m -> m.result().recordsPerSecond())
        .findFirst()
        .orElse(Double.NaN);
  }

  static Result measure(Variant variant, Workload workload, int iterations, long limitNanos) {
    // Not a measurement, even when it hits the limit: the first configuration of a run pays for
    // the JVM's warm-up (it once made the baseline at 10 per window a bound).
    Result warmUp = DriverRun.run(variant, workload, limitNanos);
    if (iterations == 0) {
      return warmUp;
    }
    List<Result> runs = new ArrayList<>();
    for (int i = 0; i < iterations; i++) {
      Result run = DriverRun.run(variant, workload, limitNanos);
      if (!run.complete()) {
        return run;
      }
      runs.add(run);
    }
    runs.sort(Comparator.comparingDouble(Result::recordsPerSecond));
    return runs.get(runs.size() / 2);
  }

  static void print(List<Measured> table) {
    System.out.printf(
        "%n| contributors per window | variant | records/s | vs A | state bytes written per contributor | allocated per record | allocated closing one window (most) | links exported |%n");
    System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|");
    Map<Integer, Map<Variant, Result>> bySize = new LinkedHashMap<>();
    table.forEach(
        m ->
            bySize
                .computeIfAbsent(m.perWindow(), k -> new EnumMap<>(Variant.class))
                .put(m.variant(), m.result()));
    bySize.forEach(
        (size, results) -> {
          double baseline = results.get(Variant.BASELINE).recordsPerSecond();
          results.forEach(
              (variant, r) ->
                  System.out.printf(
                      "| %,d | %s | %s%,.0f | %s%.2f× | %.1f | %,.0f B | %s | %,d |%n",
                      size,
                      variant.label,
                      r.complete() ? "" : "≤ ",
                      r.recordsPerSecond(),
                      r.complete() ? "" : "≤ ",
                      r.recordsPerSecond() / baseline,
                      r.stateBytesPerRecord(),
                      r.allocatedPerRecord(),
                      r.complete()
                          ? String.format("%,.1f MB", r.maxAllocatedAtClose() / 1e6)
                          : "(not reached)",
                      r.links()));
        });
    System.out.println();
    targets(bySize);
  }

  private static void targets(Map<Integer, Map<Variant, Result>> bySize) {
    Map<Variant, Result> at1000 = bySize.get(1_000);
    Map<Variant, Result> at10 = bySize.get(10);
    Map<Variant, Result> at100k = bySize.get(100_000);
    if (at1000 != null) {
      double ratio =
          at1000.get(Variant.CORRELATOR).recordsPerSecond()
              / at1000.get(Variant.BASELINE).recordsPerSecond();
      System.out.printf(
          "target C >= 0.8 x A at 1,000 per window: %.2f x  %s%n",
          ratio, ratio >= 0.8 ? "met" : "MISSED");
    }
    if (at10 != null && at100k != null) {
      double cost =
          at10.get(Variant.CORRELATOR).recordsPerSecond()
              / at100k.get(Variant.CORRELATOR).recordsPerSecond();
      System.out.printf(
          "target C's per-record cost at 100,000 per window within 1.5 x its cost at 10: %.2f x  %s%n",
          cost, cost <= 1.5 ? "met" : "MISSED");
    }
    if (at100k != null) {
      Result naive = at100k.get(Variant.NAIVE);
      double ratio = at100k.get(Variant.CORRELATOR).recordsPerSecond() / naive.recordsPerSecond();
      System.out.printf(
          "target C >= 10 x B at 100,000 per window: %s%.1f x  %s%n",
          naive.complete() ? "" : ">= ", ratio, ratio >= 10 ? "met" : "MISSED");
    }
    bySize.values().stream()
        .map(results -> results.get(Variant.CORRELATOR).stateBytesPerRecord())
        .max(Double::compare)
        .ifPresent(
            bytes ->
                System.out.printf(
                    "target <= 48 bytes of state per contributor (C, worst window size): %.1f  %s%n",
                    bytes, bytes <= 48 ? "met" : "MISSED"));
  }

  /** A comma-separated list of window sizes; "none" for none. */
  private static List<Integer> sizes(String list) {
    return list.equals("none")
        ? List.of()
        : List.of(list.split(",")).stream().map(Integer::parseInt).toList();
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("options are --name value; got " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }
}
