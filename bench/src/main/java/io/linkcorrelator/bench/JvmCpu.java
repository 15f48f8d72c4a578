package io.linkcorrelator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The CPU time an application's JVM has used, and the share of it its JIT compiler threads took: on
 * a machine of few cores, compiling competes with the work, and a run of some seconds compiles much
 * of the time (a larger code base compiles longer).
 *
 * @param seconds all its threads' CPU time ({@link ProcessHandle.Info#totalCpuDuration}); NaN where
 *     the platform does not tell
 * @param compilingShare the share of its threads' CPU ticks that its {@code C1/C2 CompilerThread}s
 *     took, read from {@code /proc/<pid>/task/<tid>/stat} (Linux); NaN elsewhere
 */
record JvmCpu(double seconds, double compilingShare) {

  /** Reads the CPU time of a live process (NaN where it cannot be read). */
  static JvmCpu of(ProcessHandle process) {
    double seconds =
        process.info().totalCpuDuration().map(cpu -> cpu.toNanos() / 1e9).orElse(Double.NaN);
    return new JvmCpu(seconds, compilingShare(process.pid()));
  }

  /** CPU seconds per record, in microseconds. */
  double microsPerRecord(int records) {
    return seconds * 1e6 / records;
  }

  /** CPU seconds per record not spent compiling, in microseconds. */
  double runningMicrosPerRecord(int records) {
    return microsPerRecord(records) * (1 - compilingShare);
  }

  private static double compilingShare(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return Double.NaN;
    }
    long all = 0;
    long compiling = 0;
    try (Stream<Path> threads = Files.list(tasks)) {
      for (Path thread : threads.toList()) {
        long ticks = ticks(thread);
        all += ticks;
        if (Files.readString(thread.resolve("comm")).contains("CompilerThre")) {
          compiling += ticks;
        }
      }
    } catch (IOException e) {
      return Double.NaN; // a thread ended while being read, or the process did
    }
    return all == 0 ? Double.NaN : (double) compiling / all;
  }

  /** User and system ticks of a thread: fields 14 and 15 of its stat line. */
  private static long ticks(Path thread) throws IOException {
    String stat = Files.readString(thread.resolve("stat"));
    // The thread's name (field 2) is in parentheses and may hold spaces: count after its end.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }
}
