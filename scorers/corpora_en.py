"""English templates for Wendu's own text corpora (see corpora.py and corpora_zh.py)."""

SLOTS = {
    "city": ["Hangzhou", "Beijing", "Shenzhen", "Chengdu", "Nanjing", "Wuhan", "Suzhou",
             "Guangzhou", "my hometown", "Xi'an"],
    "month": ["last month", "this month", "March", "October", "December"],
    "n": ["one", "two", "three", "half a", "2", "3", "5"],
    "day": ["Friday", "tomorrow", "next Monday", "the day after tomorrow", "end of the month"],
    "item": ["taxi fares", "flight tickets", "hotel costs", "client dinner", "train tickets",
             "travel expenses", "office supplies"],
    "purpose": ["a visa application", "a mortgage", "renting a flat", "a credit card",
                "my kid's school"],
    "course": ["advanced Python", "communication skills", "project management",
               "new manager training", "business English", "data analysis"],
    "thing": ["weekly report", "slides", "spec", "API doc", "test report", "meeting notes",
              "PR"],
    "person": ["Lisa", "Tom", "the PM", "QA", "the client", "Mr. Wang"],
    "hour": ["10", "11", "midnight", "9", "1am"],
    "leave": ["annual leave", "sick leave", "personal leave", "marriage leave",
              "maternity leave", "paternity leave"],
}

INTENTS = {
    "social_insurance_transfer": [
        "how do I transfer my social insurance to {city}|I need to move my social insurance to "
        "{city}|can my social security be transferred to {city}",
        "I'm relocating, what happens to my social insurance|what documents are needed to "
        "transfer social insurance",
        "social insurance transfer|transfer social security|social insurance {city}",
        "moving to {city} next month, can I take my pension contributions with me|will "
        "{city} accept the social insurance I paid here",
        "how to move my medical insurance and pension account to another city|pension "
        "account transfer procedure",
    ],
    "housing_fund_withdrawal": [
        "how do I withdraw my housing fund|I want to take money out of my housing provident "
        "fund|what do I need to withdraw the housing fund",
        "can I use my housing fund to pay rent|housing fund withdrawal for renting",
        "housing fund withdrawal|withdraw HPF|provident fund withdraw",
        "I bought a flat and want to use the provident fund for the loan|can I cash out the "
        "housing fund after leaving",
        "how can I get the balance out of my provident fund account|move housing fund money "
        "to my bank card",
    ],
    "rent_subsidy": [
        "how do I apply for the rent subsidy|am I eligible for housing allowance|where to "
        "apply for the rental allowance",
        "do new hires get a rent allowance|is there a housing subsidy for people from "
        "out of town",
        "rent subsidy|housing allowance application|rent allowance",
        "my rent subsidy hasn't been paid this month|do I need my lease for the rent subsidy",
        "can the company help with the {city} talent housing subsidy|rental support for "
        "relocated staff",
    ],
    "comp_time_off": [
        "can I take time off in lieu for working the weekend|can my overtime be swapped "
        "for days off|I'd like to use my overtime hours as comp time",
        "how much comp time do I have left|where can I see my time in lieu balance",
        "comp time|time off in lieu|TOIL request",
        "I want to take {n} day of comp leave on {day}|can I get days back for working "
        "over the holiday",
        "how is compensatory leave calculated|does comp time need manager approval",
    ],
    "leave_request": [
        "I'd like to take {n} days of {leave}|can I take {leave} on {day}|how do I apply "
        "for {leave}",
        "how many days of annual leave do I have left|where do I check my leave balance",
        "leave request|apply leave|{leave} application",
        "I'm not feeling well and need a day off {day}|family emergency, need {n} days off",
        "what proof do I need for {leave}|how far in advance should I request {leave}",
    ],
    "payroll": [
        "why is my salary lower this month|my pay for {month} hasn't arrived|where can I "
        "find my payslip",
        "the income tax deduction looks wrong|when is the performance bonus paid",
        "payslip|salary query|payroll details",
        "was my overtime pay included in the salary|overtime pay for {month} seems missing",
        "when do we get the year-end bonus|what day is payday",
    ],
    "employment_certificate": [
        "could you issue an employment certificate for me|I need proof of employment for "
        "{purpose}|how do I get an employment verification letter",
        "I need an income certificate for {purpose}|can the income statement be stamped",
        "employment certificate|proof of employment|employment letter",
        "the bank is asking for a letter from my employer|who can issue a certificate "
        "of employment for {purpose}",
        "when will I get my separation certificate|can I get the employment letter in "
        "Chinese and English",
    ],
    "reimbursement": [
        "how do I claim {item}|can I get reimbursed for {item}|what's the expense claim "
        "process",
        "how long until my expense claim is paid|my reimbursement for {month} hasn't "
        "come through",
        "reimbursement|expense claim|{item} reimbursement",
        "I lost the invoice, can I still be reimbursed|how to submit an e-invoice for expenses",
        "what's the per diem for business trips|is there a cap on travel expenses",
    ],
    "training": [
        "is there a {course} course|I want to sign up for {course} training|how do I "
        "register for a training",
        "will the company pay for external training|can certification fees be covered",
        "training signup|training courses|{course} training",
        "any courses you'd recommend for new joiners|I want to improve my {course}, any "
        "classes",
        "how do I check my training hours|where are the internal courses listed",
    ],
    "resignation": [
        "I want to resign, what's the process|how much notice do I need to give|how do I "
        "submit my resignation",
        "what do I need to hand over before leaving|how is my final pay settled",
        "resignation|quit process|resign",
        "I plan to leave in {month}, who should I notify|I'm done here, who do I talk to "
        "about quitting",
        "notice period during probation|is there severance if I resign",
    ],
    "none": [
        "the {day} meeting moved to the afternoon|I'll send you the {thing} later|can you "
        "share the {thing}",
        "{person} says the API is down again|staging is broken, anyone looking|prod is "
        "throwing errors",
        "lunch together?|shall we order takeout|there's a new coffee place downstairs",
        "can this feature ship by {day}|I updated the {thing}, please take a look|could you "
        "review my code",
        "got it|ok thanks|sure, no problem|on my way",
        "did you book the meeting room|add me to the project group|is {person} at their desk",
        "the numbers in the {thing} don't match|can't reproduce this bug|can you check this "
        "error log",
        "standup is cancelled tomorrow|the client visits {day}, let's prepare|where is the "
        "weekly report template",
        "extract the logs and send them over|I transferred the file to {person}|the SSL "
        "certificate expired, please renew it",
        "staying late to get the release out|the {day} release is delayed|the project "
        "timeline is tight this week",
    ],
}

FEEDBACK = {
    "workload": {
        "neg": [
            "I have way too much work and can never finish it|tasks keep piling up with no break",
            "working until {hour} every night is exhausting|weeks of late nights are wearing "
            "me down",
            "I'm doing the job of three people|more and more requests but no extra headcount",
            "deadlines are insane and we are always rushing|the schedule is impossibly tight",
        ],
        "pos": [
            "the workload this quarter is reasonable|tasks are spread fairly",
            "hardly any overtime lately, the pace is right|the amount of work is manageable",
            "things got much lighter after the new hires joined|the new teammate took a lot "
            "off my plate",
        ],
        "neu": [
            "this month I mostly worked on the release|my work is mainly the {thing} right now",
            "the workload next quarter may increase|workload is about the same as last quarter",
        ],
    },
    "manager": {
        "neg": [
            "my manager never listens to us|my boss always blames others",
            "the manager keeps changing requirements last minute|my boss is rude and "
            "demoralizing",
            "my supervisor never gives feedback|my manager doesn't care about the team",
            "the lead plays favourites and takes the credit|my manager yells in meetings",
        ],
        "pos": [
            "my manager is very supportive|my boss really listens to our ideas",
            "my manager gives me useful guidance|my lead treats everyone with respect",
            "weekly one-on-ones with my manager help a lot|my supervisor cares about my growth",
        ],
        "neu": [
            "we got a new manager recently|our team lead is moving to another team next month",
            "one-on-ones with my manager are now every two weeks|the new boss is still "
            "settling in",
        ],
    },
    "pay_benefits": {
        "neg": [
            "the salary is too low for the cost of living|my pay hasn't gone up in years",
            "the year-end bonus was cut a lot|the bonus was smaller than promised",
            "benefits keep getting worse|they cut the health check and allowances",
            "other companies pay much more for the same role|overtime pay is never calculated "
            "right",
        ],
        "pos": [
            "I'm happy with this year's raise|our pay is competitive",
            "great benefits, health checks and allowances are generous|the bonus beat my "
            "expectations",
            "the meal and housing allowances are thoughtful|bonuses are paid on time",
        ],
        "neu": [
            "I'd like to know when salary reviews happen|the pay structure changed this year",
            "the benefits policy will be updated next month|allowances are the same as last year",
        ],
    },
    "growth_training": {
        "neg": [
            "there's no path to promotion|I'm not learning anything here",
            "the trainings are a box-ticking exercise|my course requests never get approved",
            "three years in and my career hasn't moved|nobody cares about career development",
        ],
        "pos": [
            "the {course} training was really valuable|I've learned a lot of new skills",
            "I got a chance to be promoted|I'm growing fast, thanks to my mentor",
            "internal courses are excellent|the mentoring program helps new hires a lot",
        ],
        "neu": [
            "it would be good to have more {course} courses|promotion reviews are in the "
            "second half",
            "the training is on Thursday afternoon|I signed up for {course} this month",
        ],
    },
    "team": {
        "neg": [
            "the team atmosphere is toxic, everyone passes the buck|colleagues play politics",
            "nobody on the team is willing to help|working across departments is painful",
            "some people on the team never pull their weight|people barely talk, it feels cold",
        ],
        "pos": [
            "the team vibe is great|my colleagues are always happy to help",
            "working with my teammates is a pleasure|we support each other, it feels warm",
            "cross-team collaboration is smooth|new colleagues fit in quickly",
            "when something breaks the whole team jumps in to help|teammates are warm and "
            "we solve problems together",
        ],
        "neu": [
            "the team is hiring next month|our group was reorganized recently",
            "two new people joined the team|the team outing is on {day}",
        ],
    },
    "process_tools": {
        "neg": [
            "the approval process is way too bureaucratic|expense claims need five signatures, "
            "so slow",
            "my laptop is so slow it hurts my work|internal systems crash all the time",
            "too many meetings and endless procedures|the tools are clunky and waste hours",
        ],
        "pos": [
            "the new approval system is convenient|simplified processes made us much faster",
            "the new laptop works great|internal tools keep getting better",
            "automation saved a lot of effort|fewer meetings, more focus time",
        ],
        "neu": [
            "we switch to the new OA system next week|expense claims moved online",
            "the code repo is migrating to a new platform|room booking works differently now",
        ],
    },
    "work_life_balance": {
        "neg": [
            "I have to answer messages on weekends, no personal time|meetings after hours "
            "every day",
            "I haven't seen my family in ages|work and life are completely blurred",
            "working through every holiday|so tired I can't sleep, my life is a mess",
            "with the commute and overtime my kids are asleep when I get home|I got called "
            "back during my vacation",
        ],
        "pos": [
            "flexible hours let me take care of my family|nobody bothers me after work",
            "I can actually take my annual leave, very happy|good work-life balance here",
            "remote work saves me the commute|no weekend work, I love it",
            "I get home on time and can eat with my family now|finally evenings with my kids "
            "again",
        ],
        "neu": [
            "what is the policy on flexible hours|remote work pilot starts next month",
            "can annual leave carry over to next year|the company is discussing a new "
            "attendance policy",
        ],
    },
    "other": {
        "neg": [
            "the canteen food is terrible|the office air conditioning is always broken",
            "there's not enough parking|desks are cramped and noisy",
            "the elevator queue is long every morning|the water dispenser has been broken "
            "for days",
        ],
        "pos": [
            "the canteen keeps getting better|the new office is lovely",
            "the gym is open now, love it|afternoon tea is a nice touch",
            "the annual party was fantastic|the renovated lounge is comfortable",
        ],
        "neu": [
            "the office moves to the new building next month|the annual party is at the end "
            "of {month}",
            "canteen opening hours changed|the campus has a new access system",
        ],
    },
}

NEG_TAILS = [", really frustrating", ", please fix this", "...", ", it's hard", ", thinking "
             "of leaving", ""]
POS_TAILS = [", thumbs up", ", keep it up", "!", ", very satisfied", ""]
NEU_TAILS = [".", "", ", just fyi"]
CONNECT = [", ", ". Also, ", "; and ", ", and "]

INTENT_KW = {
    "social_insurance_transfer": ["social insurance transfer", "moving my social insurance",
                                  "pension transfer", "social security transfer"],
    "housing_fund_withdrawal": ["housing fund withdrawal", "withdrawing my provident fund",
                                "cashing out the housing fund", "HPF withdrawal"],
    "rent_subsidy": ["rent subsidy", "housing allowance", "rental allowance", "rent support"],
    "comp_time_off": ["comp time", "time off in lieu", "lieu days", "compensatory leave"],
    "leave_request": ["annual leave", "sick leave", "taking a day off", "my leave request",
                      "vacation days"],
    "payroll": ["my salary", "my payslip", "income tax", "my bonus", "overtime pay", "payroll"],
    "employment_certificate": ["an employment certificate", "proof of employment",
                               "an income certificate", "an employment letter"],
    "reimbursement": ["reimbursement", "my expense claim", "travel expenses", "invoices"],
    "training": ["training", "a training course", "learning courses", "certification fees"],
    "resignation": ["resigning", "my resignation", "quitting", "the notice period"],
    "none": ["the staging server", "merging the branch", "the release", "booking a room",
             "the printer", "the VPN", "the design review", "the weekly report"],
}
GENERIC_ASK = [
    "how does {kw} work|what do I do about {kw}|how do I handle {kw}",
    "I have a question about {kw}|quick one regarding {kw}",
    "who do I talk to about {kw}|which team handles {kw}|who is in charge of {kw}",
    "what do I need to prepare for {kw}|what are the rules for {kw}",
    "could you send me the process for {kw}|I'm stuck with {kw}, can you help",
]
TOPIC_KW = {
    "workload": ["the workload", "the overtime", "the amount of tasks", "the schedule"],
    "manager": ["my manager", "my boss", "my team lead", "my supervisor"],
    "pay_benefits": ["the salary", "my pay", "the bonus", "the benefits", "the allowances"],
    "growth_training": ["the training", "promotion chances", "career growth", "mentoring"],
    "team": ["the team atmosphere", "my colleagues", "teamwork", "the team"],
    "process_tools": ["the approval process", "the internal tools", "my laptop", "the meetings"],
    "work_life_balance": ["work-life balance", "my personal time", "family time", "weekends"],
    "other": ["the canteen", "the office", "parking", "the shuttle bus", "the elevators"],
}
GENERIC_FEEDBACK = {
    "neg": ["{kw} is really bad|I'm very unhappy with {kw}",
            "{kw} keeps getting worse|{kw} drives me crazy",
            "{kw} problem never gets fixed, so disappointing|I can't stand {kw} anymore",
            "honestly {kw} is terrible|{kw} is a disaster"],
    "pos": ["{kw} is really good|I'm very happy with {kw}",
            "{kw} keeps getting better|{kw} feels great",
            "{kw} improved a lot, glad to see it|I really like {kw} now",
            "honestly {kw} is awesome|{kw} is excellent"],
    "neu": ["no particular comments on {kw}|{kw} is about the same as before",
            "I'd like to know the plan for {kw}|{kw} will change next month",
            "nothing new about {kw} for now|I heard {kw} is going to change"],
}
