// Starts DynamoDB Local listening on one address (system property mailmeter.bindHost, default
// 127.0.0.1). Its command line has no host option and its Jetty server listens on every
// interface, so this sets the host on the server's connector before starting it. Run in Java's
// single-file source mode (java -cp DynamoDBLocal.jar this-file.java <DynamoDB Local options>);
// reflection only, so it compiles without DynamoDB Local's classes on the compiler's path.
import java.lang.reflect.Field;

public class DynamoDbLocalOnHost {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("mailmeter.bindHost", "127.0.0.1");
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
    Field field = proxy.getClass().getDeclaredField("server");
    field.setAccessible(true);
    Object server = field.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Object connector : connectors) connector.getClass().getMethod("setHost", String.class).invoke(connector, host);
    proxy.getClass().getMethod("start").invoke(proxy);
    System.err.println("DynamoDB Local listening on " + host);
    // Dies with its owner, even on kill -9 of the owner: the owner holds the write end of our
    // stdin, and the kernel closes it when the owner dies, whatever the signal. (Run in its own
    // process group, the engine would otherwise outlive it and hold the database files.)
    if (Boolean.getBoolean("mailmeter.exitWithStdin")) {
      Thread watch = new Thread(() -> {
        try {
          while (System.in.read() != -1) {}
        } catch (java.io.IOException ignored) {
        }
        System.err.println("DynamoDB Local: owner gone, exiting");
        System.exit(0);
      });
      watch.setDaemon(true);
      watch.start();
    }
  }
}
