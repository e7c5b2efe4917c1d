import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.net.InetSocketAddress;

/**
 * Temporal's time-skipping test server (io.temporal:temporal-test-server, the one the SDKs' test
 * environments use) on 127.0.0.1 only: the stock `TestServer` main binds every interface.
 * Usage: LoopbackTestServer <port>. Stops on SIGTERM.
 */
public class LoopbackTestServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    TestServicesStarter starter = new TestServicesStarter(false, 0);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
    GRPCServerHelper.registerServicesAndHealthChecks(starter.getServices(), builder);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      starter.close();
    }));
    server.awaitTermination();
  }
}
