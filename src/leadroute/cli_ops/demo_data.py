"""Fictional people and companies for ``leadroute demo``.

Every company uses the reserved ``.example`` top-level domain (RFC 2606), so no generated
address can belong to anyone.
"""

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Ana", "Arjun", "Beatriz", "Ben", "Camila", "Carlos", "Chen",
    "Chloe", "Daniel", "Diego", "Elena", "Emma", "Ethan", "Fatima", "Felix", "Grace", "Hana",
    "Hugo", "Ingrid", "Isaac", "Jade", "James", "Jonas", "Julia", "Kai", "Kenji", "Lara",
    "Leila", "Liam", "Lucas", "Maya", "Mateo", "Mei", "Mia", "Nadia", "Noah", "Nora",
    "Olga", "Omar", "Oscar", "Paula", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia",
    "Tariq", "Theo", "Uma", "Valentina", "Victor", "Wen", "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Alvarez", "Andersen", "Baker", "Bauer", "Becker", "Bianchi", "Brown", "Campbell",
    "Chen", "Cohen", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Gomez", "Gupta", "Hansen",
    "Hughes", "Ito", "Jensen", "Johnson", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin",
    "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel",
    "Perez", "Petrov", "Quinn", "Ramos", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith",
    "Tanaka", "Taylor", "Torres", "Wagner", "Walsh", "Wang", "Weber", "Wilson", "Yilmaz", "Zhang",
)  # fmt: skip

# (company, domain label, industry, employees)
COMPANIES = (
    ("Acme Robotics", "acmerobotics", "Manufacturing", "201-500"),
    ("Bluefin Analytics", "bluefin", "Software", "51-200"),
    ("Brightpath Health", "brightpath", "Healthcare", "501-1000"),
    ("Cedar & Stone", "cedarstone", "Construction", "51-200"),
    ("Cloudberry Labs", "cloudberry", "Software", "11-50"),
    ("Copperleaf Energy", "copperleaf", "Energy", "1001-5000"),
    ("Crescent Logistics", "crescentlog", "Logistics", "201-500"),
    ("Driftwood Media", "driftwood", "Media", "11-50"),
    ("Evergreen Foods", "evergreenfoods", "Food & Beverage", "501-1000"),
    ("Fathom Security", "fathomsec", "Cybersecurity", "51-200"),
    ("Foxglove Pharma", "foxglove", "Pharmaceuticals", "1001-5000"),
    ("Granite Capital", "granitecap", "Financial Services", "51-200"),
    ("Harbor Freightworks", "harborfw", "Logistics", "501-1000"),
    ("Helix Biotech", "helixbio", "Biotechnology", "201-500"),
    ("Ironclad Insurance", "ironclad", "Insurance", "1001-5000"),
    ("Juniper Retail", "juniperretail", "Retail", "5001-10000"),
    ("Keystone Legal", "keystonelegal", "Legal", "11-50"),
    ("Lighthouse Education", "lighthouse-edu", "Education", "201-500"),
    ("Lumen Fintech", "lumenfin", "Financial Services", "51-200"),
    ("Maple Street Bank", "maplebank", "Banking", "1001-5000"),
    ("Meridian Travel", "meridiantravel", "Travel", "201-500"),
    ("Nimbus Cloud", "nimbuscloud", "Software", "201-500"),
    ("Northwind Traders", "northwind", "Wholesale", "501-1000"),
    ("Oakridge Realty", "oakridge", "Real Estate", "51-200"),
    ("Orbit Telecom", "orbittel", "Telecommunications", "5001-10000"),
    ("Pinecrest Hotels", "pinecrest", "Hospitality", "1001-5000"),
    ("Quantum Devices", "quantumdev", "Electronics", "201-500"),
    ("Redwood Consulting", "redwoodco", "Consulting", "11-50"),
    ("Riverbend Foods", "riverbend", "Food & Beverage", "201-500"),
    ("Sapphire Games", "sapphiregames", "Gaming", "51-200"),
    ("Silverline Motors", "silverline", "Automotive", "1001-5000"),
    ("Solstice Solar", "solstice", "Energy", "51-200"),
    ("Summit Outdoor", "summitoutdoor", "Retail", "201-500"),
    ("Tidewater Shipping", "tidewater", "Logistics", "1001-5000"),
    ("Trellis HR", "trellishr", "Software", "51-200"),
    ("Umbra Design", "umbradesign", "Design", "11-50"),
    ("Vantage Point Marketing", "vantagepoint", "Marketing", "11-50"),
    ("Verdant Agritech", "verdant", "Agriculture", "51-200"),
    ("Willow Care", "willowcare", "Healthcare", "201-500"),
    ("Zenith Aerospace", "zenithaero", "Aerospace", "1001-5000"),
)  # fmt: skip

JOB_TITLES = (
    "CEO", "CTO", "CFO", "COO", "VP Sales", "VP Marketing", "Head of Growth",
    "Head of Operations", "Director of Engineering", "Engineering Manager", "Product Manager",
    "Sales Manager", "Account Executive", "Marketing Manager", "Procurement Lead",
    "IT Director", "Founder", "Head of People", "Operations Manager", "Data Lead",
)  # fmt: skip

CITIES = (
    "Amsterdam", "Austin", "Barcelona", "Berlin", "Boston", "Chicago", "Denver", "Dublin",
    "Lisbon", "London", "Madrid", "Melbourne", "Miami", "Munich", "New York", "Paris",
    "San Francisco", "Seattle", "Singapore", "Stockholm", "Toronto", "Warsaw",
)  # fmt: skip

# The team the leads are routed to: (first name, last name).
MEMBERS = (
    ("Ana", "Silva"),
    ("Bo", "Chen"),
    ("Carla", "Mendes"),
    ("Dev", "Patel"),
    ("Erik", "Larsen"),
    ("Fatima", "Zahra"),
    ("Gus", "Ortega"),
    ("Hiro", "Tanaka"),
)
MEMBER_DOMAIN = "leadroute-demo.example"
