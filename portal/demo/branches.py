"""Demo branch tree: the national society, Shaanxi with Baoji and its twelve county-level
divisions (GB/T 2260 codes, 宝鸡市 610300), Gansu for contrast, and grassroots units of
every type (township, community, school, hospital, company). Idempotent: branches are
found by code (or, without a code, by Chinese name under the same parent) before being
created, and a demo database made by an earlier version gets its corrected names.

Other demo loaders look branches up by code, e.g. `by_code("610302")` for 渭滨区."""

from sqlalchemy import select

from portal.branches.models import Branch
from portal.branches.services import create_branch
from portal.extensions import db

NATIONAL = ("中国红十字会总会", "Red Cross Society of China")

# One branch a line reads better than the formatter's one field a line.
# fmt: off
# (code, level, name_zh, name_en, parent code, address, public phone); parent None = national.
CODED = [
    ("610000", "province", "陕西省红十字会", "Red Cross Society of Shaanxi Province", None, "陕西省西安市莲湖区西华门大街2号", "029-87345211"),
    ("610300", "city", "宝鸡市红十字会", "Red Cross Society of Baoji City", "610000", "陕西省宝鸡市渭滨区经二路88号", "0917-3212345"),
    ("610302", "county", "渭滨区红十字会", "Red Cross Society of Weibin District", "610300", "宝鸡市渭滨区红旗路15号", "0917-3261120"),
    ("610303", "county", "金台区红十字会", "Red Cross Society of Jintai District", "610300", "宝鸡市金台区东风路36号", "0917-3512230"),
    ("610304", "county", "陈仓区红十字会", "Red Cross Society of Chencang District", "610300", "宝鸡市陈仓区虢镇东大街21号", "0917-6212340"),
    ("610305", "county", "凤翔区红十字会", "Red Cross Society of Fengxiang District", "610300", "宝鸡市凤翔区东大街58号", "0917-7212450"),
    ("610323", "county", "岐山县红十字会", "Red Cross Society of Qishan County", "610300", "宝鸡市岐山县凤鸣镇西大街12号", "0917-8212560"),
    ("610324", "county", "扶风县红十字会", "Red Cross Society of Fufeng County", "610300", "宝鸡市扶风县城关镇南大街9号", "0917-5212670"),
    ("610326", "county", "眉县红十字会", "Red Cross Society of Mei County", "610300", "宝鸡市眉县首善镇平阳街30号", "0917-5512780"),
    ("610327", "county", "陇县红十字会", "Red Cross Society of Long County", "610300", "宝鸡市陇县城关镇陇州大道18号", "0917-4612890"),
    ("610328", "county", "千阳县红十字会", "Red Cross Society of Qianyang County", "610300", "宝鸡市千阳县城关镇文化路6号", "0917-4212310"),
    ("610329", "county", "麟游县红十字会", "Red Cross Society of Linyou County", "610300", "宝鸡市麟游县九成宫镇南街3号", "0917-7912420"),
    ("610330", "county", "凤县红十字会", "Red Cross Society of Feng County", "610300", "宝鸡市凤县双石铺镇凤州路25号", "0917-4712530"),
    ("610331", "county", "太白县红十字会", "Red Cross Society of Taibai County", "610300", "宝鸡市太白县咀头镇太白路11号", "0917-4612640"),
    ("620000", "province", "甘肃省红十字会", "Red Cross Society of Gansu Province", None, "甘肃省兰州市城关区南昌路1号", "0931-8823456"),
    ("620100", "city", "兰州市红十字会", "Red Cross Society of Lanzhou City", "620000", "甘肃省兰州市城关区庆阳路99号", "0931-8412345"),
    ("620102", "county", "城关区红十字会", "Red Cross Society of Chengguan District", "620100", "兰州市城关区东岗西路16号", "0931-8612233"),
]

# Grassroots units have no division code: (name_zh, name_en, unit type, parent code, address, phone).
GRASSROOTS = [
    ("宝鸡市中心医院红十字会", "Red Cross Society of Baoji Central Hospital", "hospital", "610302", "宝鸡市渭滨区姜谭路8号", "0917-3391234"),
    ("渭滨区经二路街道红十字会", "Red Cross Society of Jing'er Road Subdistrict", "community", "610302", "宝鸡市渭滨区经二路街道办事处", "0917-3245678"),
    ("宝鸡文理学院红十字会", "Red Cross Society of Baoji University of Arts and Sciences", "school", "610303", "宝鸡市金台区高新大道1号", "0917-3566789"),
    ("岐山县凤鸣镇红十字会", "Red Cross Society of Fengming Town, Qishan", "township", "610323", "宝鸡市岐山县凤鸣镇政府院内", "0917-8256789"),
    ("宝鸡金台精密机械有限公司红十字会", "Red Cross Society of Baoji Jintai Precision Machinery Co., Ltd.", "company", "610303", "宝鸡市金台区金台大道66号", "0917-3538866"),
    ("城关区东岗街道红十字会", "Red Cross Society of Donggang Subdistrict", "community", "620102", "兰州市城关区东岗东路28号", "0931-8456789"),
]
# fmt: on

# English names earlier versions of this loader gave, by code ("Meixian County" is not
# how 眉县 is written in English; "Mei County" is). A demo database still carrying one is
# renamed; a name someone has since changed by hand on the staff pages is left alone.
FORMER_NAMES_EN = {
    "610326": {"Red Cross Society of Meixian County"},
    "610327": {"Red Cross Society of Longxian County"},
    "610330": {"Red Cross Society of Fengxian County"},
}


def by_code(code: str) -> Branch | None:
    """The branch with this administrative code, or None."""
    return db.session.scalar(select(Branch).where(Branch.code == code))


def national() -> Branch | None:
    """The national society (the tree's root), or None while the tree is empty."""
    return db.session.scalar(
        select(Branch).where(Branch.parent_id.is_(None)).order_by(Branch.id).limit(1)
    )


def _child_named(parent: Branch, name_zh: str) -> Branch | None:
    return db.session.scalar(
        select(Branch).where(Branch.parent_id == parent.id, Branch.name_zh == name_zh)
    )


def load() -> list[str]:
    root = national()
    if root is None:
        root = create_branch(
            parent=None, level="national", name_zh=NATIONAL[0], name_en=NATIONAL[1]
        )
    for code, level, name_zh, name_en, parent_code, address, phone in CODED:
        existing = by_code(code)
        if existing is not None:
            if existing.name_en in FORMER_NAMES_EN.get(code, ()):
                # Loader data, not a person's edit: no actor, so no audit entry (like
                # create_branch below).
                existing.name_en = name_en
            continue
        parent = by_code(parent_code) if parent_code else root
        create_branch(
            parent=parent,
            level=level,
            name_zh=name_zh,
            name_en=name_en,
            code=code,
            address=address,
            contact_phone=phone,
        )
    for name_zh, name_en, unit_type, parent_code, address, phone in GRASSROOTS:
        parent = by_code(parent_code)
        if _child_named(parent, name_zh) is not None:
            continue
        create_branch(
            parent=parent,
            level="grassroots",
            unit_type=unit_type,
            name_zh=name_zh,
            name_en=name_en,
            address=address,
            contact_phone=phone,
        )
    db.session.flush()
    return []
