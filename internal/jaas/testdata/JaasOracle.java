import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;

// JaasOracle parses each sasl.jaas.config value with Kafka's own client code
// (JaasContext.loadClientContext, which runs JaasConfig) and prints one line per value:
//   OK <module> <flag> <key>=<value>...   options sorted, strings quoted and escaped
//   ERR <message>                        quoted like the strings
// The values come from the file args[0], separated by lines "%%%%". Options under a null
// key (a name that is no word or string) are left out: nothing can look them up.
public class JaasOracle {
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        String all = new String(Files.readAllBytes(Paths.get(args[0])), "UTF-8");
        for (String value : all.split("\n%%%%\n", -1)) {
            try {
                JaasContext ctx = JaasContext.loadClientContext(Map.of("sasl.jaas.config", new Password(value)));
                AppConfigurationEntry e = ctx.configurationEntries().get(0);
                String flag = e.getControlFlag().toString().replace("LoginModuleControlFlag: ", "");
                StringBuilder b = new StringBuilder("OK " + quote(e.getLoginModuleName()) + " " + flag);
                TreeMap<String, String> opts = new TreeMap<>();
                for (Map.Entry<String, ?> o : e.getOptions().entrySet())
                    if (o.getKey() != null) opts.put(o.getKey(), (String) o.getValue());
                for (Map.Entry<String, String> o : opts.entrySet())
                    b.append(' ').append(quote(o.getKey())).append('=').append(quote(o.getValue()));
                System.out.println(b);
            } catch (IllegalArgumentException ex) {
                System.out.println("ERR " + quote(String.valueOf(ex.getMessage())));
            }
        }
    }
}
