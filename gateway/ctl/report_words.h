/* report_words.h — every word of `tryggctl report` in Swedish and
 * English, as REPORT_WORD(key, Swedish, English) for report_internal.h
 * (the keys) and report_text.c (the table).  No include guard: it is read
 * twice, with REPORT_WORD defined differently each time.  A text used as
 * a printf format says so, with its arguments, in the comment before it. */

/* format: first day, last day */
REPORT_WORD(W_TITLE, "Trygghetsrapport: belysning, skötsel och rörelse %s – %s",
            "Safety report: lighting, upkeep and use %s – %s")
REPORT_WORD(W_INTRO,
            "Rapporten visar om de offentliga platserna i stadsdelarna blivit bättre upplysta, bättre skötta och "
            "mer använda: passager, mörka timmar, lampfel, sensorproblem och hur fullständiga data är, per "
            "stadsdel och för alla tillsammans. Siffrorna bakom varje diagram står i tabellerna, och frågorna "
            "som hämtade dem står sist.",
            "This report shows whether the public places of the districts became better lit, better kept and "
            "better used: footfall, dark hours, lamp faults, sensor problems and how complete the data are, per "
            "district and for all together. The figures behind every chart are in the tables, and the queries "
            "that fetched them are at the end.")
REPORT_WORD(W_HEADING_ABOUT, "Om rapporten", "About this report")
REPORT_WORD(W_TABLE_REPORT, "Rapportens underlag", "What the report is based on")
REPORT_WORD(W_PERIOD, "Period (lokala datum)", "Period (local dates)")
REPORT_WORD(W_TIME_ZONE, "Tidszon", "Time zone")
REPORT_WORD(W_STORE, "Lager (InfluxDB)", "Store (InfluxDB)")
REPORT_WORD(W_DATABASE, "Databas", "Database")
REPORT_WORD(W_COVERAGE_THRESHOLD, "Tröskel för täckning", "Coverage threshold")
REPORT_WORD(W_GENERATED, "Skapad (lokal tid)", "Generated (local time)")
REPORT_WORD(W_NO_DATA_AT_ALL, "Lagret har inga fönster för perioden: det finns inget att visa.",
            "The store holds no windows for the period: there is nothing to show.")
REPORT_WORD(W_ALL_DISTRICTS, "Alla stadsdelar", "All districts")

REPORT_WORD(W_HEADING_SUMMARY, "Översikt", "Summary")
REPORT_WORD(W_TABLE_SUMMARY, "Nyckeltal per stadsdel", "Key figures per district")
REPORT_WORD(W_MAP_RELATIVE, "Karta: passager efter mörkrets inbrott, andel av det typiska",
            "Map: footfall after dark, share of typical")
REPORT_WORD(W_MAP_DARK, "Karta: mörka timmar per natt", "Map: dark hours per night")
REPORT_WORD(W_NO_COORDINATES, "Utan koordinater", "Without coordinates")
/* format: the profiles file */
REPORT_WORD(W_NOTE_NO_PROFILES, "Stadsdelarnas koordinater saknas (%s kunde inte läsas); de listas bredvid kartan.",
            "The districts' coordinates are missing (%s could not be read); they are listed beside the map.")

REPORT_WORD(W_HEADING_METHOD, "Metod", "Method")
REPORT_WORD(W_METHOD_TIME,
            "Dagar, timmar, veckodagar och nätter är lokal tid i Europe/Stockholm med sommartid. Lagret håller "
            "UTC och summerar per timme (GROUP BY time(1h)); Stockholms avvikelse från UTC är hela timmar, så "
            "varje UTC-timme är en lokal timme.",
            "Days, hours, weekdays and nights are local time in Europe/Stockholm with summer time. The store "
            "holds UTC and sums per hour (GROUP BY time(1h)); Stockholm's offset from UTC is whole hours, so "
            "each UTC hour is a local hour.")
REPORT_WORD(W_METHOD_DARK,
            "Efter mörkrets inbrott: solen mer än 6° under horisonten i Eskilstuna mitt i timmen (slutet av "
            "borgerlig skymning).",
            "After dark: the sun more than 6° below the horizon at Eskilstuna at the middle of the hour (the end "
            "of civil twilight).")
/* format: the threshold in percent */
REPORT_WORD(W_METHOD_COVERAGE,
            "Täckning: varje fönster i lagret säger hur stor del av det som sensorn var uppe och lästes "
            "(coverage). En timmes passager räknas upp med timmens täckta andel (summan av fönstrens coverage × "
            "fönstrets längd / 3600) när andelen är minst %s %%; under det lämnas timmen utanför typiska och "
            "relativa tal, och en dag räknas bara när alla dess timmar gör det. Uppräkningen görs per timme och "
            "inte per fönster: den rättar då också för fönster som saknas helt, som ett fönster för fönster "
            "aldrig ser. Råtalet visas alltid bredvid. Mörka sekunder och felsekunder räknas aldrig upp: en natt "
            "under tröskeln saknas i stället. Det som saknas ritas streckat och grått, aldrig som noll.",
            "Coverage: each window in the store says what share of it the sensor was up and read (coverage). An "
            "hour's footfall is scaled up by the hour's covered share (the sum of its windows' coverage × the "
            "window's length / 3600) when that share is at least %s %%; below it the hour is left out of typical "
            "and relative figures, and a day counts only when all its hours do. The scaling is per hour, not per "
            "window: so it also makes up for windows missing altogether, which a window-by-window scaling never "
            "sees. The raw figure is always shown beside. Dark and fault seconds are never scaled: a night below "
            "the threshold is missing instead. What is missing is drawn hatched grey, never as zero.")
REPORT_WORD(W_METHOD_NIGHT,
            "En natt går från lokal middag till nästa middag och har kvällens datum; nätterna i perioden är de "
            "vars kväll ligger i den.",
            "A night runs from local noon to the next noon and carries its evening's date; the period's nights "
            "are those whose evening lies in it.")

REPORT_WORD(W_HEADING_FOOTFALL, "Passager per dag", "Footfall per day")
REPORT_WORD(W_CHART_FOOTFALL_DAYS, "Passager per dag (uppräknade; streck = råtal)",
            "Footfall per day (scaled; tick = raw)")
REPORT_WORD(W_PASSES_PER_DAY, "passager/dag", "passes/day")
REPORT_WORD(W_PASSES_PER_HOUR, "passager/timme", "passes/hour")
REPORT_WORD(W_RAW_TICK, "råtal", "raw")
REPORT_WORD(W_INCOMPLETE, "ofullständig", "incomplete")
REPORT_WORD(W_MISSING, "saknas", "missing")
REPORT_WORD(W_NO_DATA, "inga data", "no data")
REPORT_WORD(W_NOTE_FOOTFALL_DAYS,
            "En dag med någon timme under täckningströskeln är ofullständig: den ritas streckad med råtalet som "
            "streck och räknas inte i medelvärden, trend eller före/efter.",
            "A day with any hour below the coverage threshold is incomplete: it is drawn hatched with the raw "
            "figure as a tick and is not counted in means, trend or before/after.")
REPORT_WORD(W_TABLE_FOOTFALL_DAYS, "Passager per dag", "Footfall per day")
REPORT_WORD(W_DATE, "Datum", "Date")
REPORT_WORD(W_WEEKDAY, "Veckodag", "Weekday")
REPORT_WORD(W_FOOTFALL_SCALED, "Passager (uppräknade)", "Footfall (scaled)")
REPORT_WORD(W_FOOTFALL_RAW, "Passager (råtal)", "Footfall (raw)")
REPORT_WORD(W_HOURS_KNOWN, "Timmar över tröskeln", "Hours above threshold")
REPORT_WORD(W_AFTER_DARK, "Efter mörkrets inbrott", "After dark")
REPORT_WORD(W_DAYLIGHT, "I dagsljus", "In daylight")
REPORT_WORD(W_HEADING_HOUR_OF_DAY, "Passager per timme på dygnet", "Footfall per hour of the day")
REPORT_WORD(W_CHART_HOUR_OF_DAY, "Medel per timme: vardagar och helger", "Mean per hour: weekdays and weekends")
REPORT_WORD(W_TABLE_HOUR_OF_DAY, "Medelpassager per timme på dygnet", "Mean footfall per hour of the day")
REPORT_WORD(W_HOUR, "Timme", "Hour")
REPORT_WORD(W_WEEKDAYS, "Vardagar", "Weekdays")
REPORT_WORD(W_WEEKENDS, "Helger", "Weekends")
REPORT_WORD(W_HOURS_COUNTED, "Timmar", "Hours")
REPORT_WORD(W_HEADING_SPLIT, "Vardag och helg, mörker och dagsljus", "Weekdays and weekends, dark and daylight")
REPORT_WORD(W_TABLE_SPLIT, "Vardag mot helg, efter mörkrets inbrott mot dagsljus",
            "Weekdays against weekends, after dark against daylight")
REPORT_WORD(W_FIGURE, "Mått", "Figure")
REPORT_WORD(W_VALUE, "Värde", "Value")
REPORT_WORD(W_BASED_ON, "Underlag", "Based on")
REPORT_WORD(W_DAYS, "dagar", "days")
REPORT_WORD(W_HOURS, "Timmar", "Hours")
REPORT_WORD(W_ROW_WEEKDAY_PER_DAY, "Passager per vardag", "Footfall per weekday")
REPORT_WORD(W_ROW_WEEKEND_PER_DAY, "Passager per helgdag", "Footfall per weekend day")
REPORT_WORD(W_ROW_DARK_PER_DAY, "Passager per dag efter mörkrets inbrott", "Footfall per day after dark")
REPORT_WORD(W_ROW_LIGHT_PER_DAY, "Passager per dag i dagsljus", "Footfall per day in daylight")
REPORT_WORD(W_ROW_DARK_PER_HOUR, "Passager per mörk timme", "Footfall per dark hour")
REPORT_WORD(W_ROW_LIGHT_PER_HOUR, "Passager per ljus timme", "Footfall per daylight hour")
REPORT_WORD(W_ROW_DARK_SHARE, "Andel efter mörkrets inbrott (%)", "Share after dark (%)")
REPORT_WORD(W_HEADING_TREND, "Trend över perioden", "Trend over the period")
/* format: percent, low, high, days, direction */
REPORT_WORD(W_TREND_SENTENCE,
            "Passagerna per dag ändrades med %s %% per 30 dagar (95 %%-intervall %s till %s %%), räknat på %s "
            "fullständiga dagar: %s",
            "Footfall per day changed by %s %% per 30 days (95 %% interval %s to %s %%), over %s complete "
            "days: %s")
REPORT_WORD(W_TREND_UP, "en tydlig ökning.", "a clear rise.")
REPORT_WORD(W_TREND_DOWN, "en tydlig minskning.", "a clear fall.")
REPORT_WORD(W_TREND_FLAT, "ingen riktning går att skilja från variationen mellan dagar.",
            "no direction can be told from the day-to-day variation.")
REPORT_WORD(W_TREND_TOO_FEW, "För få fullständiga dagar för en trend (minst tre behövs).",
            "Too few complete days for a trend (three are needed).")
REPORT_WORD(W_TREND_METHOD,
            "Trend: minsta kvadratmetodens lutning för dagssummorna (fullständiga dagar) mot dagens nummer, med "
            "95 %-intervall från Students t med n − 2 frihetsgrader, uttryckt i procent av medelvärdet per 30 "
            "dagar. Säsong och väder ingår i lutningen: jämför helst lika långa perioder ett år isär.",
            "Trend: the least-squares slope of the daily totals (complete days) against the day's number, with a "
            "95 % interval from Student's t with n − 2 degrees of freedom, as a percentage of the mean per 30 "
            "days. Season and weather are part of the slope: compare periods of the same length a year apart.")
REPORT_WORD(W_TABLE_TREND, "Trend i passager per dag", "Trend in footfall per day")
REPORT_WORD(W_DAYS_COUNTED, "Dagar", "Days")
REPORT_WORD(W_MEAN_PER_DAY, "Passager per dag", "Footfall per day")
REPORT_WORD(W_SLOPE_PER_DAY, "Lutning per dag", "Slope per day")
REPORT_WORD(W_LOW_95, "95 % låg", "95 % low")
REPORT_WORD(W_HIGH_95, "95 % hög", "95 % high")
REPORT_WORD(W_PERCENT_PER_30, "% per 30 dagar", "% per 30 days")

REPORT_WORD(W_HEADING_TYPICAL, "Typiskt och relativt", "Typical and relative")
REPORT_WORD(W_NOTE_TYPICAL,
            "Typiskt: för varje timme i veckan medelvärdet av samma veckodag och timme under året före "
            "periodens slut, eller det lagret har av det året. Relativt: periodens passager som andel av det "
            "typiska för samma timmar, så som trafikräknare som Telraam redovisar. Timmar under "
            "täckningströskeln räknas inte på någon sida. Har lagret bara perioden själv blir andelen nära 100 %.",
            "Typical: for each hour of the week the mean of the same weekday and hour over the year before the "
            "period's end, or what the store holds of that year. Relative: the period's footfall as a share of "
            "the typical for the same hours, as traffic counters such as Telraam report it. Hours below the "
            "coverage threshold count on neither side. When the store holds only the period itself the share is "
            "close to 100 %.")
REPORT_WORD(W_CHART_TYPICAL, "Typiska passager per timme i veckan", "Typical footfall per hour of the week")
REPORT_WORD(W_TABLE_TYPICAL, "Typiska passager per veckodag och timme", "Typical footfall per weekday and hour")
REPORT_WORD(W_CHART_RELATIVE, "Passager per dag i procent av det typiska", "Footfall per day as a percentage of typical")
REPORT_WORD(W_PERCENT_OF_TYPICAL, "% av typiskt", "% of typical")
/* format: all hours, after dark */
REPORT_WORD(W_RELATIVE_SENTENCE,
            "Perioden hade %s %% av det typiska antalet passager; efter mörkrets inbrott %s %%.",
            "The period had %s %% of the typical footfall; after dark %s %%.")
REPORT_WORD(W_TABLE_RELATIVE, "Passager per dag mot det typiska", "Footfall per day against typical")
REPORT_WORD(W_OBSERVED, "Uppmätt", "Observed")
REPORT_WORD(W_TYPICAL, "Typiskt", "Typical")
REPORT_WORD(W_RELATIVE, "Andel av typiskt (%)", "Share of typical (%)")

REPORT_WORD(W_HEADING_DARKNESS, "Mörker", "Darkness")
REPORT_WORD(W_NOTE_DARKNESS,
            "Timmar under ljussensorns dark_lux per natt och plats (medel över platsens ljussensorer). En natt "
            "vars täckning är under tröskeln saknas.",
            "Hours below the light sensor's dark_lux per night and site (mean over the site's light sensors). A "
            "night whose coverage is below the threshold is missing.")
REPORT_WORD(W_NO_LIGHT_SENSORS, "Inga ljussensorer i perioden.", "No light sensors in the period.")
REPORT_WORD(W_CHART_DARK_NIGHTS, "Mörka timmar per natt och plats", "Dark hours per night and site")
REPORT_WORD(W_TABLE_DARK_NIGHTS, "Mörka timmar per natt och plats", "Dark hours per night and site")
REPORT_WORD(W_HOURS_PER_NIGHT, "timmar/natt", "hours/night")
REPORT_WORD(W_NIGHT_OF, "Natt (kvällens datum)", "Night (its evening)")
REPORT_WORD(W_TABLE_DARKEST, "De mörkaste platserna", "The darkest sites")
REPORT_WORD(W_SITE, "Plats", "Site")
REPORT_WORD(W_DISTRICT, "Stadsdel", "District")
REPORT_WORD(W_MEAN_PER_NIGHT, "Medel per natt (h)", "Mean per night (h)")
REPORT_WORD(W_NIGHTS_KNOWN, "Nätter med data", "Nights with data")
REPORT_WORD(W_NIGHTS, "Nätter", "Nights")

REPORT_WORD(W_HEADING_FAULTS, "Lampfel", "Lamp faults")
REPORT_WORD(W_NOTE_FAULTS,
            "Feltimmar: timmar då lampan var släckt medan dess ljussensor visade mörker. En felperiod är nätter i "
            "följd med fel på samma lampa; en natt utan data varken avslutar eller börjar en. Längden räknas till "
            "dess lampan var lagad.",
            "Fault hours: hours the lamp was off while its light sensor read dark. A fault episode is consecutive "
            "nights with a fault on the same lamp; a night without data neither ends nor starts one. Its length "
            "counts until the lamp was mended.")
REPORT_WORD(W_NO_LAMPS, "Inga lampsensorer i perioden.", "No lamp sensors in the period.")
REPORT_WORD(W_CHART_FAULT_NIGHTS, "Feltimmar per natt och plats", "Fault hours per night and site")
REPORT_WORD(W_TABLE_FAULT_NIGHTS, "Feltimmar per natt och plats", "Fault hours per night and site")
REPORT_WORD(W_CHART_FAULT_SITES, "Feltimmar per plats under perioden", "Fault hours per site over the period")
REPORT_WORD(W_TABLE_FAULT_SITES, "Platserna med flest feltimmar", "The sites with the most fault hours")
REPORT_WORD(W_FAULT_HOURS, "Feltimmar", "Fault hours")
REPORT_WORD(W_NIGHTS_WITH_FAULT, "Nätter med fel", "Nights with a fault")
REPORT_WORD(W_TABLE_EPISODES, "Felperioder och hur länge de varade", "Fault episodes and how long they lasted")
REPORT_WORD(W_SENSOR, "Sensor", "Sensor")
REPORT_WORD(W_FIRST_NIGHT, "Första natt", "First night")
REPORT_WORD(W_LAST_NIGHT, "Sista natt", "Last night")
REPORT_WORD(W_STATE, "Läge", "State")
REPORT_WORD(W_MENDED, "Åtgärdad", "Mended")
REPORT_WORD(W_NOT_MENDED, "Inte åtgärdad vid periodens slut", "Not mended by the end of the period")
REPORT_WORD(W_NO_EPISODES, "Inga lampfel i perioden.", "No lamp faults in the period.")

REPORT_WORD(W_HEADING_PROBLEMS, "Sensorproblem", "Sensor problems")
REPORT_WORD(W_NO_ALERT_MEASUREMENT,
            "Lagret har ingen mätning alert (data från före larmen lagrades): sensorproblem kan inte visas.",
            "The store has no alert measurement (data from before alerts were stored): sensor problems cannot "
            "be shown.")
REPORT_WORD(W_TABLE_PROBLEMS, "Sensorproblem per plats", "Sensor problems per site")
REPORT_WORD(W_PROBLEM, "Problem", "Problem")
REPORT_WORD(W_DETAIL, "Beskrivning", "Detail")
REPORT_WORD(W_STILL_ACTIVE, "pågår fortfarande", "still active")
REPORT_WORD(W_NO_PROBLEMS, "Inga sensorproblem i perioden.", "No sensor problems in the period.")
REPORT_WORD(W_PROBLEM_STUCK, "fastnat (samma värde)", "stuck")
REPORT_WORD(W_PROBLEM_BLOCKED, "blockerad", "blocked")
REPORT_WORD(W_PROBLEM_COVERED, "övertäckt eller smutsig", "covered")
REPORT_WORD(W_PROBLEM_LAMP_FAULT, "lampfel", "lamp fault")
REPORT_WORD(W_PROBLEM_FAILED, "ur funktion", "failed")

REPORT_WORD(W_HEADING_COMPLETENESS, "Datafullständighet", "Data completeness")
REPORT_WORD(W_NOTE_COMPLETENESS,
            "Väntade fönster per gateway och dag = sensorer × dagens sekunder / fönstrets längd (window_s i lagret, "
            "annars uppskattat ur avståndet mellan punkterna). Täckning = summan av fönstrens coverage. En timme "
            "utan något fönster är en lucka och ritas streckad.",
            "Windows expected per gateway and day = sensors × the day's seconds / the window's length (window_s in "
            "the store, or else estimated from the spacing of the points). Coverage = the sum of the windows' "
            "coverage. An hour without any window is a gap and is drawn hatched.")
REPORT_WORD(W_NO_GATEWAYS, "Inga gatewayer i perioden.", "No gateways in the period.")
REPORT_WORD(W_CHART_DAYS_COVERED, "Täckt andel per gateway och dag", "Covered share per gateway and day")
REPORT_WORD(W_CHART_HOURS_COVERED, "Täckt andel per timme", "Covered share per hour")
REPORT_WORD(W_TABLE_COMPLETENESS, "Fönster väntade och i lagret per gateway och dag",
            "Windows expected and in the store per gateway and day")
REPORT_WORD(W_GATEWAY, "Gateway", "Gateway")
REPORT_WORD(W_SENSORS, "Sensorer", "Sensors")
REPORT_WORD(W_WINDOW_S, "Fönster (s)", "Window (s)")
REPORT_WORD(W_WINDOW_SOURCE, "Fönstrets källa", "Window from")
REPORT_WORD(W_FROM_STORE, "lagret", "the store")
REPORT_WORD(W_ESTIMATED, "uppskattat", "estimated")
REPORT_WORD(W_EXPECTED, "Väntade", "Expected")
REPORT_WORD(W_PRESENT, "I lagret", "Present")
REPORT_WORD(W_COVERAGE_SUM, "Täckning (summa)", "Coverage (sum)")
REPORT_WORD(W_COVERED_PERCENT, "Täckt (%)", "Covered (%)")
REPORT_WORD(W_HOURS_MISSING, "Timmar som saknas", "Hours missing")
REPORT_WORD(W_HOURS_PARTLY, "Timmar delvis täckta", "Hours partly covered")
REPORT_WORD(W_TABLE_GAPS, "Luckor: timmar utan något fönster", "Gaps: hours without any window")
REPORT_WORD(W_FROM_LOCAL, "Från (lokal tid)", "From (local time)")
REPORT_WORD(W_TO_LOCAL, "Till (lokal tid)", "To (local time)")
REPORT_WORD(W_FROM_UTC, "Från (UTC)", "From (UTC)")
REPORT_WORD(W_TO_UTC, "Till (UTC)", "To (UTC)")
REPORT_WORD(W_NO_GAPS, "Inga luckor i perioden.", "No gaps in the period.")

REPORT_WORD(W_HEADING_CHANGES, "Före och efter", "Before and after")
REPORT_WORD(W_BEFORE_AND_AFTER, "före och efter", "before and after")
REPORT_WORD(W_TABLE_CHANGE, "Skillnad i skillnader mot de andra stadsdelarna",
            "Difference in differences against the other districts")
REPORT_WORD(W_DARK_FOOTFALL_PER_DAY, "Passager efter mörkrets inbrott per dag", "Footfall after dark per day")
REPORT_WORD(W_DARK_FOOTFALL_INDEX, "Passager efter mörkrets inbrott, index (före = 100)",
            "Footfall after dark, index (before = 100)")
REPORT_WORD(W_DARK_PER_NIGHT, "Mörka timmar per natt", "Dark hours per night")
REPORT_WORD(W_FAULT_PER_NIGHT, "Feltimmar per natt", "Fault hours per night")
REPORT_WORD(W_AFTER_DARK_RELATIVE, "Efter mörkrets inbrott, % av typiskt", "After dark, % of typical")
REPORT_WORD(W_CHANGED_BEFORE, "Stadsdelen före", "District before")
REPORT_WORD(W_CHANGED_AFTER, "Stadsdelen efter", "District after")
REPORT_WORD(W_OTHERS_BEFORE, "Övriga före", "Others before")
REPORT_WORD(W_OTHERS_AFTER, "Övriga efter", "Others after")
REPORT_WORD(W_DIFFERENCE_IN_DIFFERENCES, "Skillnad i skillnader", "Difference in differences")
REPORT_WORD(W_WELCH_T, "Welchs t", "Welch's t")
REPORT_WORD(W_DAYS_BEFORE, "Dagar före", "Days before")
REPORT_WORD(W_DAYS_AFTER, "Dagar efter", "Days after")
REPORT_WORD(W_HOW_SURE, "Hur säkert", "How sure")
/* format: figure, difference, t, how sure */
REPORT_WORD(W_DID_SENTENCE, "%s: skillnaden i skillnader är %s (Welchs t = %s) – %s",
            "%s: the difference in differences is %s (Welch's t = %s) – %s")
REPORT_WORD(W_CLEAR, "en tydlig förändring (|t| ≥ 3).", "a clear change (|t| ≥ 3).")
REPORT_WORD(W_LIKELY, "troligen en förändring (|t| ≥ 2).", "likely a change (|t| ≥ 2).")
REPORT_WORD(W_CANNOT_TELL, "går inte att skilja från variationen mellan dagar.",
            "cannot be told from the day-to-day variation.")
REPORT_WORD(W_TOO_FEW, "för få dagar med data på någon sida för att säga något.",
            "too few days with data on one side to say anything.")
REPORT_WORD(W_NOTE_DID,
            "Före och efter: stadsdelens medel före och efter ändringen jämförs med medlet av de andra "
            "stadsdelarna under samma dagar (skillnad i skillnader). Passager räknas som index av stadsdelens eget "
            "medel före ändringen (= 100), eftersom stadsdelarna är olika stora och årstiden ändrar passagerna med "
            "en andel, inte ett antal; timmar jämförs som de är. Årstid och väder påverkar båda sidor lika, "
            "vilket är poängen med jämförelsen. Hur säkert: Welchs t för de dagliga skillnaderna (stadsdelen "
            "minus de andra) före mot efter; |t| ≥ 3 tydligt, ≥ 2 troligt, annars går det inte att skilja från "
            "variationen mellan dagar.",
            "Before and after: the district's mean before and after the change is set against the mean of the "
            "other districts over the same days (difference in differences). Footfall is taken as an index of "
            "the district's own mean before the change (= 100), as the districts differ in size and the season "
            "changes footfall by a share, not a number; hours are compared as they are. Season and weather "
            "affect both sides alike, which is the point of the comparison. How sure: Welch's t on the daily "
            "differences (the district minus the others) before against after; |t| ≥ 3 clear, ≥ 2 likely, "
            "otherwise it cannot be told from the day-to-day variation.")

REPORT_WORD(W_HEADING_QUERIES, "Bilaga: frågorna", "Appendix: the queries")
/* format: the store's URL, the database */
REPORT_WORD(W_QUERIES_HOW,
            "Rapporten ställde dessa InfluxQL-frågor med POST till %s/query med db=%s och epoch=ms (tidsstämplar i "
            "millisekunder, UTC). Samma frågor kan köras igen, t.ex. med curl --data-urlencode q=….",
            "The report ran these InfluxQL queries by POST to %s/query with db=%s and epoch=ms (timestamps in "
            "milliseconds, UTC). The same queries can be run again, e.g. with curl --data-urlencode q=….")
