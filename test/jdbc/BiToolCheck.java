import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a BI tool (Metabase, Tableau, ...) does on connect, through
 * PostgreSQL's JDBC driver and a read-only role: list the KPI relations with
 * DatabaseMetaData.getTables, their columns with getColumns, read the
 * COMMENTs as remarks, run a month-by-channel KPI query and find every write
 * refused.  test/suites/jdbc.sh writes what psql sees into the files named
 * below; this program checks that the driver sees the same.
 *
 * Usage: java BiToolCheck JDBC_URL USER EXPECTED_DIR
 *   relations.txt  name|relkind|readable (t/f)|comment for each relation of the KPI schema
 *   columns.txt    relation|column|typname|comment for each column of the readable ones
 *   kpi.txt        month|channel|rating_pct|interactions of the KPI query below
 *   schema.txt     the KPI schema's name
 */
public final class BiToolCheck
{
	private static int failures = 0;
	private static int checks = 0;

	private BiToolCheck()
	{
	}

	private static void check(boolean ok, String what)
	{
		checks++;
		if (!ok)
		{
			failures++;
			System.out.println("FAILED: " + what);
		}
	}

	private static List<String[]> readRows(Path file, int columns) throws Exception
	{
		List<String[]> rows = new ArrayList<>();
		for (String line : Files.readAllLines(file))
		{
			if (!line.isEmpty())
				rows.add(line.split("\\|", columns));
		}
		return rows;
	}

	/* The TABLE_TYPE pgjdbc reports for a pg_class.relkind. */
	private static String tableType(String relkind)
	{
		switch (relkind)
		{
			case "r": return "TABLE";
			case "p": return "PARTITIONED TABLE";
			case "v": return "VIEW";
			case "m": return "MATERIALIZED VIEW";
			default: return "relkind " + relkind;
		}
	}

	/* The java.sql.Types a BI tool maps each column type to; omnikpi's own
	 * channel_summary (in the daily summary tables) and the regclass of the
	 * kpi_objects record are OTHER, which tools show as text. */
	private static final Map<String, Integer> SQL_TYPES = Map.ofEntries(
		Map.entry("date", Types.DATE), Map.entry("text", Types.VARCHAR), Map.entry("name", Types.VARCHAR),
		Map.entry("float8", Types.DOUBLE), Map.entry("int8", Types.BIGINT), Map.entry("int4", Types.INTEGER),
		Map.entry("numeric", Types.NUMERIC), Map.entry("bool", Types.BIT), Map.entry("timestamptz", Types.TIMESTAMP),
		Map.entry("channel_summary", Types.OTHER), Map.entry("regclass", Types.OTHER), Map.entry("jsonb", Types.OTHER),
		Map.entry("_text", Types.ARRAY), Map.entry("_date", Types.ARRAY), Map.entry("_timestamptz", Types.ARRAY),
		Map.entry("_bool", Types.ARRAY));

	public static void main(String[] args) throws Exception
	{
		if (args.length != 3)
		{
			System.err.println("usage: java BiToolCheck JDBC_URL USER EXPECTED_DIR");
			System.exit(2);
		}
		Path dir = Path.of(args[2]);
		String schema = Files.readString(dir.resolve("schema.txt")).trim();
		List<String[]> relations = readRows(dir.resolve("relations.txt"), 4);
		List<String[]> columns = readRows(dir.resolve("columns.txt"), 4);
		List<String[]> kpi = readRows(dir.resolve("kpi.txt"), 4);

		try (Connection conn = DriverManager.getConnection(args[0], args[1], ""))
		{
			DatabaseMetaData meta = conn.getMetaData();
			System.out.println("connected with " + meta.getDriverName() + " " + meta.getDriverVersion()
							   + " to " + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion()
							   + " as " + meta.getUserName());

			/* 1. The relations and their remarks, as Metabase lists them on sync. */
			Map<String, String[]> listed = new TreeMap<>();
			try (ResultSet rs = meta.getTables(null, schema, "%",
											   new String[] {"TABLE", "PARTITIONED TABLE", "VIEW", "MATERIALIZED VIEW"}))
			{
				while (rs.next())
					listed.put(rs.getString("TABLE_NAME"),
							   new String[] {rs.getString("TABLE_TYPE"), rs.getString("REMARKS")});
			}
			check(listed.size() == relations.size(),
				  "getTables lists " + listed.size() + " relations, psql " + relations.size() + ": " + listed.keySet());
			int materialized = 0;
			for (String[] r : relations)
			{
				String[] seen = listed.get(r[0]);
				check(seen != null, "getTables does not list " + r[0]);
				if (seen == null)
					continue;
				check(tableType(r[1]).equals(seen[0]), r[0] + ": TABLE_TYPE " + seen[0] + ", expected " + tableType(r[1]));
				check(r[3].equals(seen[1]), r[0] + ": REMARKS \"" + seen[1] + "\", expected \"" + r[3] + "\"");
				if (r[1].equals("m"))
					materialized++;
			}
			System.out.println("getTables: " + listed.size() + " relations (" + materialized
							   + " materialized views) with their types and comments");

			/* 2. Columns: names, types, remarks. */
			int columnCount = 0;
			for (String[] c : columns)
			{
				try (ResultSet rs = meta.getColumns(null, schema, c[0], c[1]))
				{
					boolean found = rs.next();
					check(found, "getColumns does not list " + c[0] + "." + c[1]);
					if (!found)
						continue;
					columnCount++;
					check(c[2].equals(rs.getString("TYPE_NAME")),
						  c[0] + "." + c[1] + ": TYPE_NAME " + rs.getString("TYPE_NAME") + ", expected " + c[2]);
					Integer sqlType = SQL_TYPES.get(c[2]);
					check(sqlType != null && sqlType == rs.getInt("DATA_TYPE"),
						  c[0] + "." + c[1] + ": DATA_TYPE " + rs.getInt("DATA_TYPE") + " for " + c[2]);
					check(c[3].equals(rs.getString("REMARKS")),
						  c[0] + "." + c[1] + ": REMARKS \"" + rs.getString("REMARKS") + "\", expected \"" + c[3] + "\"");
				}
			}
			System.out.println("getColumns: " + columnCount + " columns with types and comments");

			/* 3. Every relation the role may read can be read, the others cannot. */
			int readable = 0;
			for (String[] r : relations)
			{
				String sql = "SELECT * FROM " + quoteIdent(schema) + "." + quoteIdent(r[0]) + " LIMIT 1";
				String state = sqlState(conn, sql, false);
				if (r[2].equals("t"))
				{
					check(state == null, r[0] + " should be readable, got SQLSTATE " + state);
					readable++;
				}
				else
					check("42501".equals(state), r[0] + " should be refused with 42501, got " + state);
			}
			System.out.println("read " + readable + " relations; " + (relations.size() - readable) + " refused as granted");

			/* 4. The month-by-channel KPI query, with a date parameter as a
			 * dashboard filter sends it, must give psql's numbers exactly:
			 * PostgreSQL prints float8 in its shortest exact form, which
			 * Double.parseDouble reads back to the same double. */
			String query = "SELECT month, channel, rating_pct, interactions FROM " + quoteIdent(schema)
				+ ".experience_rating_by_channel_monthly WHERE month >= ? ORDER BY month, channel";
			int rows = 0;
			try (PreparedStatement ps = conn.prepareStatement(query))
			{
				ps.setObject(1, LocalDate.of(1900, 1, 1));
				try (ResultSet rs = ps.executeQuery())
				{
					while (rs.next())
					{
						check(rows < kpi.size(), "the KPI query returned more rows than psql's " + kpi.size());
						if (rows >= kpi.size())
							break;
						String[] e = kpi.get(rows);
						LocalDate month = rs.getObject(1, LocalDate.class);
						String channel = rs.getString(2);
						Double rating = rs.getObject(3) == null ? null : rs.getDouble(3);
						long interactions = rs.getLong(4);
						check(month.toString().equals(e[0]) && channel.equals(e[1])
							  && Objects.equals(rating, e[2].isEmpty() ? null : Double.parseDouble(e[2]))
							  && interactions == Long.parseLong(e[3]),
							  "KPI row " + rows + ": " + month + "|" + channel + "|" + rating + "|" + interactions
							  + ", psql: " + String.join("|", e));
						rows++;
					}
				}
			}
			check(rows == kpi.size() && rows > 0, "the KPI query returned " + rows + " rows, psql " + kpi.size());
			System.out.println("month-by-channel experience rating: " + rows + " rows compared with psql's");

			/* 5. Writes fail with insufficient_privilege, even on a
			 * connection that is not marked read-only: to the source table,
			 * to the schema, and to every relation the role can read. */
			conn.setReadOnly(false);
			conn.setAutoCommit(true);
			String kpiSchema = quoteIdent(schema);
			List<String> writes = new ArrayList<>(List.of(
				"INSERT INTO shop.interactions (customer_id) VALUES (1)",
				"UPDATE shop.interactions SET satisfaction = 5",
				"DELETE FROM shop.interactions",
				"TRUNCATE shop.interactions",
				"CREATE TABLE " + kpiSchema + ".bi_scratch (i integer)",
				"CREATE VIEW " + kpiSchema + ".bi_view AS SELECT 1 AS one",
				"SELECT count(*) FROM omnikpi.create_kpi_views('" + schema + "', interactions => 'shop.interactions')",
				"SELECT count(*) FROM omnikpi.drop_kpi_views('" + schema + "')"));
			for (String[] r : relations)
			{
				if (!r[2].equals("t"))
					continue;
				String name = kpiSchema + "." + quoteIdent(r[0]);
				String kind = r[1].equals("p") ? "TABLE" : tableType(r[1]);
				writes.add("DROP " + kind + " " + name);
				writes.add("COMMENT ON " + kind + " " + name + " IS 'changed'");
				writes.add("ALTER TABLE " + name + " OWNER TO CURRENT_USER");
				if (r[1].equals("m"))
					writes.add("REFRESH MATERIALIZED VIEW " + name);
				if (r[1].equals("r") || r[1].equals("p"))
				{
					writes.add("DELETE FROM " + name);
					writes.add("TRUNCATE " + name);
					writes.add("INSERT INTO " + name + " SELECT * FROM " + name);
				}
			}
			for (String sql : writes)
			{
				String state = sqlState(conn, sql, true);
				check("42501".equals(state),
					  "write should be refused with 42501: " + sql + " gave " + (state == null ? "success" : state));
			}
			System.out.println(writes.size() + " writes refused with 42501");
		}

		System.out.println(checks + " checks, " + failures + " failed");
		System.exit(failures == 0 ? 0 : 1);
	}

	/* The SQLSTATE of running sql, or null if it ran. */
	private static String sqlState(Connection conn, String sql, boolean isUpdate)
	{
		try (Statement st = conn.createStatement())
		{
			if (isUpdate)
				st.execute(sql);
			else
				try (ResultSet rs = st.executeQuery(sql))
				{
					while (rs.next())
					{
						/* read it all, as a tool would */
					}
				}
			return null;
		}
		catch (SQLException e)
		{
			return e.getSQLState();
		}
	}

	private static String quoteIdent(String name)
	{
		return "\"" + name.replace("\"", "\"\"") + "\"";
	}
}
