package io.linkcorrelator.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The correlator application in a JVM of its own, started as the image starts it: {@code java -jar
 * link-correlator.jar <config>}, with the runnable jar this build shipped (never the test class
 * path, which would hide a library missing from the jar). Its output goes to a log file that a
 * failing test can point at.
 */
final class CorrelatorProcess implements AutoCloseable {

  private final Process process;
  private final Path log;

  private CorrelatorProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts the correlator; its output goes to {@code target/it-logs/<logName>.log}, kept after the
   * test for a look at what happened.
   */
  static CorrelatorProcess start(
      Path config, Map<String, String> env, String logName, String... jvmOptions) {
    Path log = Path.of("target", "it-logs", logName + ".log").toAbsolutePath();
    try {
      java.nio.file.Files.createDirectories(log.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>();
    command.add(java);
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-jar", runnableJar().toString(), config.toString()));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder
        .environment()
        .keySet()
        .removeIf(
            name ->
                name.startsWith("OTEL_")
                    || name.startsWith("KAFKA_")
                    || name.startsWith("CORRELATOR_"));
    builder.environment().putAll(env);
    try {
      return new CorrelatorProcess(builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the correlator JVM", e);
    }
  }

  /**
   * The runnable jar that {@code ./mvnw package} builds and the Dockerfile copies into the image;
   * failsafe runs after {@code package}, so it is there. Its absence is a build error, not a skip.
   */
  static Path runnableJar() {
    Path jar =
        Path.of(System.getProperty("repository.root", ".."), "app", "target", "link-correlator.jar")
            .toAbsolutePath()
            .normalize();
    if (!java.nio.file.Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "the runnable jar " + jar + " is missing: run the tests with ./mvnw verify");
    }
    return jar;
  }

  /** Sends SIGTERM and waits for the exit code. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the correlator did not stop within 90 s of SIGTERM; see " + log);
    }
    return process.exitValue();
  }

  /** Waits for the process to end by itself; its exit code, or -1 if it still runs. */
  int awaitExit(java.time.Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** Sends SIGKILL: a crash, with no chance to close anything. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Path log() {
    return log;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
